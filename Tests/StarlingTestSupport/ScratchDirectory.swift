import Foundation

/// A fresh temporary directory named `prefix-<uuid>` holding `files` (name → contents); the caller removes it.
public func scratchDirectory(_ prefix: String, files: [String: String] = [:]) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    for (name, contents) in files { try contents.write(toFile: "\(dir)/\(name)", atomically: true, encoding: .utf8) }
    return dir
}
