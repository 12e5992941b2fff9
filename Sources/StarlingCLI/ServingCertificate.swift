import Foundation
import Logging

/// The API server's self-signed HTTPS certificate for 127.0.0.1 and localhost, made once per data directory
/// with `openssl` and trusted through the kubeconfig's `certificate-authority-data`.
struct ServingCertificate {
    var certificatePath: String
    var keyPath: String
    var certificatePEM: Data

    /// Loads the certificate in `directory`, creating it when missing; nil (plain HTTP) when openssl is absent.
    static func ensure(in directory: String, logger: Logger) throws -> ServingCertificate? {
        let cert = "\(directory)/apiserver.crt"
        let key = "\(directory)/apiserver.key"
        if let pem = FileManager.default.contents(atPath: "\(directory)/ca.crt"),
            FileManager.default.fileExists(atPath: key),
            FileManager.default.fileExists(atPath: cert)
        {
            return ServingCertificate(certificatePath: cert, keyPath: key, certificatePEM: pem)
        }
        let candidates = ["/usr/bin/openssl", "/usr/local/bin/openssl", "/bin/openssl"]
        guard let openssl = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            logger.warning(
                "openssl not found: serving plain HTTP; kubectl will not send the bearer token over HTTP",
                metadata: ["fix": "apt-get install openssl"])
            return nil
        }
        // A CA, and a serving certificate it signs for 127.0.0.1 and localhost; the kubeconfig trusts the CA.
        let ca = "\(directory)/ca.crt"
        let caKey = "\(directory)/ca.key"
        let csr = "\(directory)/apiserver.csr"
        let ext = "\(directory)/apiserver.ext"
        try "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
            .write(toFile: ext, atomically: true, encoding: .utf8)
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try run(
            openssl,
            ["req", "-x509"] + ec + ["-days", "3650", "-subj", "/CN=starling-ca", "-keyout", caKey, "-out", ca])
        try run(openssl, ["req"] + ec + ["-subj", "/CN=starling-apiserver", "-keyout", key, "-out", csr])
        try run(
            openssl,
            [
                "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", caKey, "-CAcreateserial", "-days", "3650",
                "-extfile", ext, "-out", cert,
            ])
        for f in [csr, ext, "\(directory)/ca.srl"] { try? FileManager.default.removeItem(atPath: f) }
        chmod(caKey, 0o600)
        guard let pem = FileManager.default.contents(atPath: ca) else { throw CLIError("cannot read \(ca)") }
        chmod(key, 0o600)
        return ServingCertificate(certificatePath: cert, keyPath: key, certificatePEM: pem)
    }

    static func run(_ openssl: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: openssl)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CLIError("openssl \(arguments.first ?? "") failed: \(String(decoding: message, as: UTF8.self))")
        }
    }
}
