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
        var start = text.utf8.startIndex
        Self.forEachPiece(text) { bytes in
            let end = text.utf8.index(start, offsetBy: bytes.count)
            // Bounds on scalars that need not be on characters (an emoji's joiner is a token of its own).
            result.append(Substring(text.unicodeScalars[start..<end]))
            start = end
        }
        return result
    }

    /// The token ids of `text`.
    public func encode(_ text: String) -> [UInt32] {
        var result: [UInt32] = []
        result.reserveCapacity(text.utf8.count / 3 + 1)
        Self.forEachPiece(text) { result.append(Self.id(ofUTF8: $0)) }
        return result
    }

    /// Number of tokens in `text`, without building them.
    public func count(_ text: String) -> Int {
        var n = 0
        Self.forEachPiece(text) { _ in n += 1 }
        return n
    }

    /// The id of one token text.
    public static func id(of piece: Substring) -> UInt32 {
        var piece = piece
        return piece.withUTF8 { id(ofUTF8: $0) }
    }

    /// The id of the token whose UTF-8 bytes are `bytes`: their FNV-1a hash folded into `vocabularySize`.
    static func id(ofUTF8 bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
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

    /// Calls `body` with the UTF-8 bytes of each token of `text`, in order. Works on the bytes (decoding a scalar
    /// only to look up its kind), not on `String.UnicodeScalarView`, whose index checks cost more than the rule:
    /// the gateway tokenizes every prompt it routes by prefix.
    private static func forEachPiece(_ text: String, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        var text = text
        text.withUTF8 { bytes in
            let end = bytes.count
            var start = 0
            while start < end {
                let first = scalar(in: bytes, at: start)
                var index = start + first.length
                var length = 1
                /// Takes the words' scalars that follow, up to the longest token.
                func takeWord() {
                    while index < end, length < maxTokenScalars {
                        let next = scalar(in: bytes, at: index)
                        guard kind(next.scalar) == .word else { return }
                        index += next.length
                        length += 1
                    }
                }
                switch kind(first.scalar) {
                case .other:
                    break
                case .word:
                    takeWord()
                case .space:
                    if first.scalar == " ", index < end, kind(scalar(in: bytes, at: index).scalar) == .word {
                        // A single space joins the word after it.
                        takeWord()
                    } else {
                        while index < end, length < maxTokenScalars {
                            let next = scalar(in: bytes, at: index)
                            guard kind(next.scalar) == .space else { break }
                            // Leave a lone space in front of a word to that word.
                            let after = index + next.length
                            if next.scalar == " ", after < end, kind(scalar(in: bytes, at: after).scalar) == .word {
                                break
                            }
                            index = after
                            length += 1
                        }
                    }
                }
                body(UnsafeBufferPointer(rebasing: bytes[start..<index]))
                start = index
            }
        }
    }

    /// The scalar whose UTF-8 encoding starts at `offset` (a String's bytes are valid UTF-8), and its length.
    private static func scalar(
        in bytes: UnsafeBufferPointer<UInt8>, at offset: Int
    ) -> (scalar: Unicode.Scalar, length: Int) {
        let lead = UInt32(bytes[offset])
        if lead < 0x80 { return (Unicode.Scalar(UInt8(lead)), 1) }
        func continuation(_ index: Int) -> UInt32 { UInt32(bytes[offset + index]) & 0x3F }
        let value: UInt32
        let length: Int
        if lead < 0xE0 {
            (value, length) = ((lead & 0x1F) << 6 | continuation(1), 2)
        } else if lead < 0xF0 {
            (value, length) = ((lead & 0x0F) << 12 | continuation(1) << 6 | continuation(2), 3)
        } else {
            (value, length) = (
                (lead & 0x07) << 18 | continuation(1) << 12 | continuation(2) << 6 | continuation(3), 4
            )
        }
        // Valid UTF-8 always decodes to a scalar.
        return (Unicode.Scalar(value) ?? "\u{FFFD}", length)
    }
}
