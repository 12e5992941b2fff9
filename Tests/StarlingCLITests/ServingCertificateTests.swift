import Foundation
import Logging
import StarlingTestSupport
import Testing
import X509

@testable import StarlingCLI

@Suite struct ServingCertificateTests {
    @Test func theServingCertificateIsSignedByTheCAForLocalhostAndLoopback() throws {
        let made = try ServingCertificate.make(now: Date())
        let ca = try Certificate(pemEncoded: made.caPEM)
        let serving = try Certificate(pemEncoded: made.certificatePEM)
        #expect(serving.issuer == ca.subject)
        #expect(ca.publicKey.isValidSignature(serving.signature, for: serving))
        #expect(try ca.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))
        let names = try #require(try serving.extensions.subjectAlternativeNames)
        #expect(names.contains(.dnsName("localhost")))
        #expect(
            names.contains { if case .ipAddress(let ip) = $0 { Array(ip.bytes) == [127, 0, 0, 1] } else { false } })
        #expect(try serving.extensions.extendedKeyUsage?.contains(.serverAuth) == true)
        #expect(serving.notValidAfter.timeIntervalSinceNow > 9 * 365 * 86400)
    }

    @Test func ensureWritesOwnerOnlyFilesOnceAndReusesThem() throws {
        let dir = try scratchDirectory("starling-cert")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try ServingCertificate.ensure(in: dir, logger: Logger(label: "test"))
        for file in ["ca.crt", "ca.key", "apiserver.crt", "apiserver.key"] {
            let mode = try FileManager.default.attributesOfItem(atPath: "\(dir)/\(file)")[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(file)")
        }
        let second = try ServingCertificate.ensure(in: dir, logger: Logger(label: "test"))
        #expect(first.certificatePEM == second.certificatePEM)
    }
}
