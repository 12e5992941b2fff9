/// Writes Prometheus text exposition, optionally only the samples of some names, as prometheus_client's restricted
/// registry does for `name[]`: a family's HELP and TYPE lines appear only when one of its samples does.
struct ExpositionWriter {
    /// The sample names to write; nil writes every sample.
    let names: Set<String>?
    private(set) var text = ""
    private var header: String?

    init(names: Set<String>?) { self.names = names }

    /// Starts a family; its HELP and TYPE lines are written with its first wanted sample.
    mutating func family(_ name: String, _ type: String, _ help: String) {
        header = "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    func wants(_ sampleName: String) -> Bool { names?.contains(sampleName) ?? true }

    /// A sample line: `name` then `rest` (labels in braces, if any, a space and the value), rendered only when wanted.
    mutating func sample(_ name: String, _ rest: () -> String) {
        guard wants(name) else { return }
        if let header {
            text += header
            self.header = nil
        }
        text += name + rest() + "\n"
    }
}
