import Crypto
import Foundation
import Logging
import SwiftASN1
import X509

/// The API server's HTTPS certificate for 127.0.0.1 and localhost, signed by a CA of the data directory's own and
/// trusted through the kubeconfig's `certificate-authority-data`. Made with swift-certificates (P-256 keys, ECDSA
/// with SHA-256) once per data directory; there is no plain-HTTP fallback: a certificate that cannot be made or
/// read stops `starling up` with the reason.
struct ServingCertificate {
    var certificatePath: String
    var keyPath: String
    var certificatePEM: Data

    /// How long the certificates are valid (ten years: they never leave the machine, and the CA's key is 0600).
    static let validity: TimeInterval = 3650 * 86400

    /// Loads the certificate in `directory`, creating the CA and it when missing.
    static func ensure(in directory: String, logger: Logger) throws -> ServingCertificate {
        let cert = "\(directory)/apiserver.crt"
        let key = "\(directory)/apiserver.key"
        let ca = "\(directory)/ca.crt"
        if let pem = FileManager.default.contents(atPath: ca), FileManager.default.fileExists(atPath: key),
            FileManager.default.fileExists(atPath: cert)
        {
            return ServingCertificate(certificatePath: cert, keyPath: key, certificatePEM: pem)
        }
        let made: (caPEM: String, caKeyPEM: String, certificatePEM: String, keyPEM: String)
        do {
            made = try make(now: Date())
        } catch {
            throw CLIError("cannot make the API server's certificate: \(error)")
        }
        try EmbeddedCluster.writePrivate(made.caKeyPEM, to: "\(directory)/ca.key")
        try EmbeddedCluster.writePrivate(made.keyPEM, to: key)
        try EmbeddedCluster.writePrivate(made.caPEM, to: ca)
        try EmbeddedCluster.writePrivate(made.certificatePEM, to: cert)
        logger.info("made the API server's CA and serving certificate", metadata: ["tls.ca": "\(ca)"])
        return ServingCertificate(certificatePath: cert, keyPath: key, certificatePEM: Data(made.caPEM.utf8))
    }

    /// A CA and a serving certificate it signs for 127.0.0.1 and localhost, as PEM.
    static func make(now: Date) throws -> (caPEM: String, caKeyPEM: String, certificatePEM: String, keyPEM: String) {
        let caKey = P256.Signing.PrivateKey()
        let caName = try DistinguishedName { CommonName("starling-ca") }
        let notBefore = now.addingTimeInterval(-3600)
        let notAfter = now.addingTimeInterval(validity)
        let caCertificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(caKey.publicKey),
            notValidBefore: notBefore, notValidAfter: notAfter, issuer: caName, subject: caName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: Certificate.PublicKey(caKey.publicKey))
            },
            issuerPrivateKey: .init(caKey))
        let key = P256.Signing.PrivateKey()
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: notBefore, notValidAfter: notAfter, issuer: caName,
            subject: try DistinguishedName { CommonName("starling-apiserver") },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames([
                    .dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])),
                ])
                AuthorityKeyIdentifier(keyIdentifier: try caCertificate.extensions.subjectKeyIdentifier?.keyIdentifier)
            },
            issuerPrivateKey: .init(caKey))
        return (
            try pem(caCertificate), caKey.pemRepresentation, try pem(certificate), key.pemRepresentation
        )
    }

    static func pem(_ certificate: Certificate) throws -> String {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return PEMDocument(type: "CERTIFICATE", derBytes: serializer.serializedBytes).pemString + "\n"
    }
}
