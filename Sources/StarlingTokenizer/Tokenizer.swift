/// Starling's deterministic tokenizer, shared by the model server simulator and the gateway so that both see
/// the same token boundaries (and so the same prefix blocks).
///
/// The rule, applied to the text's Unicode scalars from left to right:
/// - a *word* is a run of letters, digits, marks or `_`; one space directly before a word belongs to the word's
///   first token; a word is cut into tokens of at most 6 scalars (the leading space counts as one);
/// - any other whitespace run is cut into tokens of at most 6 scalars;
/// - every other scalar (punctuation, symbols, emoji) is a token by itself.
///
/// English prose comes out at roughly 4 characters per token. Token ids are FNV-1a hashes of the token's UTF-8
/// bytes folded into `vocabularySize`, so they are stable across runs and platforms.
public struct Tokenizer: Sendable {
    /// Size of the id space token ids are folded into.
    public static let vocabularySize: UInt32 = 128_256
    /// Longest token, in Unicode scalars.
    public static let maxTokenScalars = 6

    public init() {}

    /// The token texts of `text`, in order; joined they give back `text`.
    public func pieces(_ text: String) -> [Substring] {
        var result: [Substring] = []
        result.reserveCapacity(text.utf8.count / 3 + 1)
        forEachPiece(text) { result.append($0) }
        return result
    }

    /// The token ids of `text`.
    public func encode(_ text: String) -> [UInt32] {
        var result: [UInt32] = []
        result.reserveCapacity(text.utf8.count / 3 + 1)
        forEachPiece(text) { result.append(Self.id(of: $0)) }
        return result
    }

    /// Number of tokens in `text`, without building them.
    public func count(_ text: String) -> Int {
        var n = 0
        forEachPiece(text) { _ in n += 1 }
        return n
    }

    /// The id of one token text.
    public static func id(of piece: Substring) -> UInt32 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in piece.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return UInt32(truncatingIfNeeded: hash % UInt64(vocabularySize))
    }

    private enum Kind { case word, space, other }

    /// Kinds of the ASCII scalars, the same as the Unicode properties give, without looking them up: most prompt
    /// text is ASCII, and the gateway tokenizes every prompt it routes by prefix.
    private static let asciiKinds: [Kind] = (0..<128).map { value in
        let scalar = Unicode.Scalar(UInt8(value))
        return unicodeKind(scalar)
    }

    private static func kind(_ scalar: Unicode.Scalar) -> Kind {
        if scalar.value < 128 { return asciiKinds[Int(scalar.value)] }
        return unicodeKind(scalar)
    }

    private static func unicodeKind(_ scalar: Unicode.Scalar) -> Kind {
        if scalar.properties.isWhitespace { return .space }
        if scalar == "_" || scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
            return .word
        }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .letterNumber, .otherNumber:
            return .word
        default:
            return .other
        }
    }

    private func forEachPiece(_ text: String, _ body: (Substring) -> Void) {
        let scalars = text.unicodeScalars
        var start = scalars.startIndex
        let end = scalars.endIndex
        while start < end {
            let first = scalars[start]
            var index = scalars.index(after: start)
            var length = 1
            switch Self.kind(first) {
            case .other:
                break
            case .word:
                while index < end, length < Self.maxTokenScalars, Self.kind(scalars[index]) == .word {
                    index = scalars.index(after: index)
                    length += 1
                }
            case .space:
                if first == " ", index < end, Self.kind(scalars[index]) == .word {
                    // A single space joins the word after it.
                    while index < end, length < Self.maxTokenScalars, Self.kind(scalars[index]) == .word {
                        index = scalars.index(after: index)
                        length += 1
                    }
                } else {
                    while index < end, length < Self.maxTokenScalars, Self.kind(scalars[index]) == .space {
                        // Leave a lone space in front of a word to that word.
                        let next = scalars.index(after: index)
                        if scalars[index] == " ", next < end, Self.kind(scalars[next]) == .word { break }
                        index = next
                        length += 1
                    }
                }
            }
            body(Substring(text.unicodeScalars[start..<index]))
            start = index
        }
    }
}
