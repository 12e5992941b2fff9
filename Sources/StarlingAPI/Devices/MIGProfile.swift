/// A Multi-Instance GPU profile: how many of the GPU's 7 compute slices and 8 memory slices an instance takes,
/// and where it may start. An instance at start `s` occupies memory slices `s ..< s + memorySlices` and compute
/// slices `s ..< s + computeSlices`; two instances overlap when any slice does, which the devices' counters say.
public struct MIGProfile: Sendable, Hashable, CustomStringConvertible {
    /// `3g.40gb`.
    public var name: String
    public var computeSlices: Int
    public var memorySlices: Int
    /// The memory the instance has, in GiB.
    public var memoryGiB: Int
    /// Valid placement starts (memory-slice index).
    public var starts: [Int]

    public var description: String { name }

    /// An 80 GB GPU's profiles (H100-80GB and A100-80GB share them), from NVIDIA's MIG user guide: compute slices
    /// of 7, memory slices of 8, and valid starts.
    public static let gpu80GB: [MIGProfile] = [
        MIGProfile(name: "1g.10gb", computeSlices: 1, memorySlices: 1, memoryGiB: 10, starts: Array(0...6)),
        MIGProfile(name: "1g.20gb", computeSlices: 1, memorySlices: 2, memoryGiB: 20, starts: [0, 2, 4, 6]),
        MIGProfile(name: "2g.20gb", computeSlices: 2, memorySlices: 2, memoryGiB: 20, starts: [0, 2, 4]),
        MIGProfile(name: "3g.40gb", computeSlices: 3, memorySlices: 4, memoryGiB: 40, starts: [0, 4]),
        MIGProfile(name: "4g.40gb", computeSlices: 4, memorySlices: 4, memoryGiB: 40, starts: [0]),
        MIGProfile(name: "7g.80gb", computeSlices: 7, memorySlices: 8, memoryGiB: 80, starts: [0]),
    ]

    /// Slices of the GPUs these profiles partition.
    public static let totalComputeSlices = 7
    public static let totalMemorySlices = 8

    /// The profiles an accelerator type can be partitioned into; empty for types without MIG.
    public static func profiles(for acceleratorType: String?) -> [MIGProfile] {
        ["H100-80GB", "H100", "A100-80GB"].contains(acceleratorType ?? "") ? gpu80GB : []
    }

    /// The profile named `name` for an accelerator type.
    public static func named(_ name: String, for acceleratorType: String? = "H100-80GB") -> MIGProfile? {
        profiles(for: acceleratorType).first { $0.name == name }
    }

    /// Every profile name Starling knows, for error messages.
    public static var knownNames: [String] { gpu80GB.map(\.name) }
}
