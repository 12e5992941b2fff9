import StarlingAPI

extension ModelServiceStatus {
    /// The pod-shaping spec groups below the partition keep, with its revision: `currentTemplate` while it still
    /// hashes to `currentRevision` (a record that does not is not trusted).
    var keptTemplate: (revision: String, spec: ModelServiceSpec)? {
        guard let spec = currentTemplate?.spec, let revision = currentRevision,
            GroupPodBuilder.revision(of: spec) == revision
        else { return nil }
        return (revision, spec)
    }
}
