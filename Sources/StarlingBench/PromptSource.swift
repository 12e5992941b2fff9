import StarlingTokenizer

/// Builds the requests of a run, deterministically from a seed. Generated prompts are made of short words that
/// are one token each for Starling's tokenizer (and about one for common model tokenizers), so a prompt of `n`
/// words is a prompt of about `n` tokens.
public struct PromptSource: Sendable {
    /// What to send.
    public enum Kind: Sendable, Equatable {
        /// Independent prompts with lengths drawn from `input`.
        case synthetic(input: LengthDistribution)
        /// `groups` prefixes of `prefixLength` tokens, each followed by `questionsPerGroup` questions of
        /// `questionLength` tokens (the workload that prefix-aware routing is for).
        case sharedPrefix(groups: Int, prefixLength: Int, questionLength: Int, questionsPerGroup: Int)
        /// Chat sessions of `turns` user messages (lengths from `input`), `sessions` of them under way at once;
        /// each turn resends the session's history with the replies the server gave.
        case multiTurn(sessions: Int, turns: Int, input: LengthDistribution)
        /// Conversations from a dataset file: the first user message of each (`sessions` nil), or whole
        /// conversations replayed as sessions, `sessions` at once.
        case dataset(ConversationDataset, sessions: Int?)
    }

    /// One request: what to send and what is expected back.
    public struct Item: Sendable, Equatable {
        /// The prompt, or for a session turn the new user message.
        public var prompt: String
        /// Tokens of `prompt` (a session turn's history comes on top).
        public var inputTokens: Int
        public var outputTokens: Int
        /// Shared-prefix group, if any.
        public var group: Int?
        /// The model (or adapter) to ask; nil: the target's first model.
        public var model: String?
        /// The session turn this is, if any.
        public var turn: Turn?
        /// A system message sent before the prompt (dataset conversations that have one).
        public var system: String?

        public init(
            prompt: String, inputTokens: Int, outputTokens: Int, group: Int? = nil, model: String? = nil,
            turn: Turn? = nil, system: String? = nil
        ) {
            self.prompt = prompt
            self.inputTokens = inputTokens
            self.outputTokens = outputTokens
            self.group = group
            self.model = model
            self.turn = turn
            self.system = system
        }
    }

    /// Where a request sits in a multi-turn session.
    public struct Turn: Sendable, Equatable, Hashable {
        public var session: Int
        public var index: Int
        public var isLast: Bool
    }

    /// The default output length when neither the configuration nor a dataset gives one: lognormal around
    /// ShareGPT's median reply of 338 tokens.
    public static let defaultOutput = LengthDistribution.lognormal(median: 338, sigma: 0.8, min: 4, max: 2048)

    public var kind: Kind
    /// Output lengths; nil takes each dataset reply's length (and `defaultOutput` elsewhere).
    public var output: LengthDistribution?
    /// Models to spread requests over, in proportion to their weights (a LoRA mix); empty: the target's first.
    public var models: [WeightedModel]
    public var seed: UInt64

    public init(kind: Kind, output: LengthDistribution?, models: [WeightedModel] = [], seed: UInt64) {
        self.kind = kind
        self.output = output
        self.models = models
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
        var mix = ModelMix(models)
        let output = self.output ?? Self.defaultOutput
        switch kind {
        case .synthetic(let input):
            return (0..<count).map { _ in
                let n = input.sample(&random)
                return Item(
                    prompt: Self.text(n, &random), inputTokens: n, outputTokens: output.sample(&random),
                    model: mix.next())
            }
        case .sharedPrefix(let groups, let prefixLength, let questionLength, let questionsPerGroup):
            let prefixes = (0..<groups).map { _ in Self.text(prefixLength, &random) }
            var pool: [(group: Int, question: String)] = []
            for g in 0..<groups {
                for _ in 0..<questionsPerGroup { pool.append((g, Self.text(questionLength, &random))) }
            }
            // Groups interleave, as users of different groups would: in group order, all traffic of a moment
            // would share one prefix and a router with prefix affinity would send it all to one replica.
            pool.shuffle(using: &random)
            return (0..<count).map { i in
                let (group, question) = pool[i % pool.count]
                return Item(
                    prompt: prefixes[group] + " " + question, inputTokens: prefixLength + questionLength,
                    outputTokens: output.sample(&random), group: group, model: mix.next())
            }
        case .multiTurn(let sessions, let turns, let input):
            return Self.interleave(count: count, sessions: sessions, mix: &mix) { _ in
                (0..<turns).map { _ in
                    let n = input.sample(&random)
                    return (Self.text(n, &random), n, output.sample(&random), nil)
                }
            }
        case .dataset(let dataset, let sessions):
            var order = Array(dataset.conversations.indices)
            order.shuffle(using: &random)
            let tokenizer = Tokenizer()
            let conversationTurns = { (number: Int) -> [(String, Int, Int, String?)] in
                let turns = Self.turns(of: dataset.conversations[order[number % order.count]])
                return turns.map { turn in
                    let outputTokens =
                        self.output.map { $0.sample(&random) } ?? max(1, tokenizer.count(turn.reply ?? ""))
                    return (turn.user, tokenizer.count(turn.user), outputTokens, turn.system)
                }
            }
            guard let sessions else {
                return (0..<count).map { i in
                    let first = conversationTurns(i)[0]
                    return Item(
                        prompt: first.0, inputTokens: first.1, outputTokens: first.2, model: mix.next(),
                        system: first.3)
                }
            }
            return Self.interleave(count: count, sessions: sessions, mix: &mix, conversationTurns)
        }
    }

    /// Session turns in send order: `sessions` slots take turns; a slot whose session has ended starts the next
    /// one. `turnsOf(n)` gives session `n`'s turns as (user text, its tokens, output tokens, system message).
    static func interleave(
        count: Int, sessions: Int, mix: inout ModelMix, _ turnsOf: (Int) -> [(String, Int, Int, String?)]
    ) -> [Item] {
        var slots: [(session: Int, turns: [(String, Int, Int, String?)], next: Int, model: String?)] = []
        var started = 0
        var items: [Item] = []
        items.reserveCapacity(count)
        for i in 0..<count {
            let slot = i % sessions
            if slot == slots.count || slots[slot].next == slots[slot].turns.count {
                let fresh = (session: started, turns: turnsOf(started), next: 0, model: mix.next())
                started += 1
                if slot == slots.count { slots.append(fresh) } else { slots[slot] = fresh }
            }
            let state = slots[slot]
            let (text, tokens, output, system) = state.turns[state.next]
            items.append(
                Item(
                    prompt: text, inputTokens: tokens, outputTokens: output, model: state.model,
                    turn: Turn(session: state.session, index: state.next, isLast: state.next == state.turns.count - 1),
                    system: state.next == 0 ? system : nil))
            slots[slot].next += 1
        }
        return items
    }

    /// A conversation's user turns with the reply that followed each; consecutive user messages are joined and
    /// a leading system message is kept for the first turn.
    static func turns(
        of conversation: ConversationDataset.Conversation
    ) -> [(
        user: String, reply: String?, system: String?
    )] {
        var result: [(user: String, reply: String?, system: String?)] = []
        var system: String?
        for message in conversation {
            switch message.role {
            case .system where result.isEmpty:
                system = message.text
            case .system:
                break
            case .user:
                if let last = result.last, last.reply == nil {
                    result[result.count - 1].user += "\n" + message.text
                } else {
                    result.append((message.text, nil, result.isEmpty ? system : nil))
                }
            case .assistant:
                if let last = result.last, last.reply == nil { result[result.count - 1].reply = message.text }
            }
        }
        return result
    }

    static func text(_ tokens: Int, _ random: inout SeededRandom) -> String {
        var words: [String] = []
        words.reserveCapacity(tokens)
        for _ in 0..<tokens { words.append(Self.words[Int(random.next() % UInt64(Self.words.count))]) }
        return words.joined(separator: " ")
    }
}
