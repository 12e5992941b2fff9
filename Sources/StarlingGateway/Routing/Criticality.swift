/// How much a request matters when the pool is saturated (the Gateway API Inference Extension's criticality).
/// An objective's integer `priority` maps onto it: above zero is critical, zero standard, below zero sheddable.
public enum Criticality: String, Sendable, CaseIterable, Comparable, Hashable {
    /// Served even under saturation; waits at the gateway, ahead of every other request, when it must.
    case critical = "Critical"
    /// Waits at the gateway under saturation, behind critical requests.
    case standard = "Standard"
    /// Shed with 429 under saturation.
    case sheddable = "Sheddable"

    public init(priority: Int) {
        self = priority > 0 ? .critical : priority == 0 ? .standard : .sheddable
    }

    /// Parses a criticality name; `Default` is the v1alpha1 spelling of `Standard`.
    public init?(name: String) {
        if name == "Default" {
            self = .standard
        } else {
            self.init(rawValue: name)
        }
    }

    /// Critical first.
    var rank: Int {
        switch self {
        case .critical: 0
        case .standard: 1
        case .sheddable: 2
        }
    }

    public static func < (a: Criticality, b: Criticality) -> Bool { a.rank > b.rank }
}
