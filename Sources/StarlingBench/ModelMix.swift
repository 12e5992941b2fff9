/// A model (or LoRA adapter) name and its share of requests.
public struct WeightedModel: Sendable, Equatable, Codable {
    public var name: String
    public var weight: Double

    public init(name: String, weight: Double = 1) {
        self.name = name
        self.weight = weight
    }

    /// Parses `NAME` or `NAME=WEIGHT`; errors name `field`.
    public static func parse(_ text: String, field: String) throws(BenchConfigurationError) -> WeightedModel {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard let name = parts.first, !name.isEmpty else {
            throw BenchConfigurationError("\(field): \"\(text)\" is not NAME or NAME=WEIGHT")
        }
        guard parts.count == 2 else { return WeightedModel(name: name) }
        guard let weight = Double(parts[1]), weight > 0, weight.isFinite else {
            throw BenchConfigurationError(
                "\(field): weight of \"\(name)\" must be a positive number, got \"\(parts[1])\"")
        }
        return WeightedModel(name: name, weight: weight)
    }
}

/// Hands out model names in proportion to their weights, evenly spread (smooth weighted round-robin, as nginx
/// balances upstreams): weights 3 and 1 give a a b a, a a b a, … — exact shares over any whole cycle, no
/// randomness.
struct ModelMix {
    private var models: [WeightedModel]
    private var current: [Double]

    init(_ models: [WeightedModel]) {
        self.models = models
        current = Array(repeating: 0, count: models.count)
    }

    /// The next name; nil when the mix is empty.
    mutating func next() -> String? {
        guard !models.isEmpty else { return nil }
        let total = models.reduce(0) { $0 + $1.weight }
        var best = 0
        for i in models.indices {
            current[i] += models[i].weight
            if current[i] > current[best] { best = i }
        }
        current[best] -= total
        return models[best].name
    }
}
