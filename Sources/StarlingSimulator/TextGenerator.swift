import Foundation
import StarlingTokenizer

/// Deterministic stand-in for a model's output: a seeded stream of short English words, each exactly one token
/// of Starling's tokenizer (a space and at most three letters), so the text re-tokenizes to the reported count.
public struct TextGenerator: Sendable {
    private var random: SeededRandom

    /// Mean natural response length when a request does not set `ignore_eos`: ShareGPT's mean output length
    /// (338 tokens, vLLM paper arXiv 2309.06180).
    public static let meanNaturalLength = 338.0

    static let words: [String] = [
        " the", " and", " of", " to", " a", " in", " is", " it", " you", " for", " on", " are", " as", " be", " at",
        " was", " can", " not", " or", " by", " we", " an", " if", " all", " but", " one", " has", " use", " may",
        " new", " way", " how", " so", " its", " our", " any", " run", " set", " few", " see", " now", " day",
        " get", " top", " key", " map", " log", " end", " add", " job",
    ]

    public init(seed: UInt64) { random = SeededRandom(seed: seed) }

    /// How many tokens the "model" wants to say before its end-of-sequence token: exponential with mean
    /// `meanNaturalLength`, at least one.
    public mutating func naturalLength() -> Int {
        max(1, Int((-Self.meanNaturalLength * log(random.unit())).rounded()))
    }

    /// The next output token's text.
    public mutating func nextToken(first: Bool) -> String {
        let word = Self.words[Int(random.next() % UInt64(Self.words.count))]
        return first ? String(word.dropFirst()) : word
    }
}
