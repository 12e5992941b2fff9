import StarlingTokenizer

/// Builds the prompts of a run, deterministically from a seed. Prompts are made of short words that are one token
/// each for Starling's tokenizer (and about one for common model tokenizers), so a prompt of `n` words is a
/// prompt of about `n` tokens.
public struct PromptSource: Sendable {
    /// What to send.
    public enum Kind: Sendable, Equatable {
        /// Independent prompts with lengths drawn from `input`.
        case synthetic(input: LengthDistribution)
        /// `groups` prefixes of `prefixLength` tokens, each followed by `questionsPerGroup` questions of
        /// `questionLength` tokens (the workload that prefix-aware routing is for).
        case sharedPrefix(groups: Int, prefixLength: Int, questionLength: Int, questionsPerGroup: Int)
    }

    /// One request's prompt and output length.
    public struct Item: Sendable, Equatable {
        public var prompt: String
        public var inputTokens: Int
        public var outputTokens: Int
        /// Shared-prefix group, if any.
        public var group: Int?
    }

    public var kind: Kind
    public var output: LengthDistribution
    public var seed: UInt64

    public init(kind: Kind, output: LengthDistribution, seed: UInt64) {
        self.kind = kind
        self.output = output
        self.seed = seed
    }

    static let words = [
        "time", "year", "way", "day", "man", "thing", "life", "child", "world", "state", "group", "hand",
        "part", "place", "case", "week", "work", "point", "home", "water", "room", "area", "money", "story", "fact",
        "month", "lot", "right", "study", "book", "eye", "job", "word", "issue", "side", "kind", "head", "house",
        "power", "hour", "game", "line", "end", "law", "car", "city", "name", "team", "idea",
    ]

    /// `count` items, in send order.
    public func items(count: Int) -> [Item] {
        var random = SeededRandom(seed: seed)
        switch kind {
        case .synthetic(let input):
            return (0..<count).map { _ in
                let n = input.sample(&random)
                return Item(prompt: Self.text(n, &random), inputTokens: n, outputTokens: output.sample(&random))
            }
        case .sharedPrefix(let groups, let prefixLength, let questionLength, let questionsPerGroup):
            let prefixes = (0..<groups).map { _ in Self.text(prefixLength, &random) }
            var pool: [(group: Int, question: String)] = []
            for g in 0..<groups {
                for _ in 0..<questionsPerGroup { pool.append((g, Self.text(questionLength, &random))) }
            }
            return (0..<count).map { i in
                let (group, question) = pool[i % pool.count]
                return Item(
                    prompt: prefixes[group] + " " + question, inputTokens: prefixLength + questionLength,
                    outputTokens: output.sample(&random), group: group)
            }
        }
    }

    static func text(_ tokens: Int, _ random: inout SeededRandom) -> String {
        var words: [String] = []
        words.reserveCapacity(tokens)
        for _ in 0..<tokens { words.append(Self.words[Int(random.next() % UInt64(Self.words.count))]) }
        return words.joined(separator: " ")
    }
}
