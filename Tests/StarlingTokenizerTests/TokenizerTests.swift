import Testing

@testable import StarlingTokenizer

@Suite struct TokenizerTests {
    let tokenizer = Tokenizer()

    @Test(arguments: [
        ("Hello world", ["Hello", " world"]),
        ("Tokenization", ["Tokeni", "zation"]),
        ("a  b", ["a", " ", " b"]),
        ("x, y!", ["x", ",", " y", "!"]),
        ("tab\there", ["tab", "\t", "here"]),
        ("", [String]()),
    ])
    func piecesFollowTheDocumentedRule(text: String, expected: [String]) {
        #expect(tokenizer.pieces(text).map(String.init) == expected)
    }

    @Test func piecesJoinBackToTheTextAndIdsAreStable() {
        let text = "The quick brown fox jumps over the lazy dog. Ünïcödé and emoji 🚀 too!\n\nNew paragraph."
        #expect(tokenizer.pieces(text).joined() == text)
        #expect(tokenizer.encode(text) == tokenizer.encode(text))
        #expect(tokenizer.count(text) == tokenizer.encode(text).count)
        // Pinned values: ids must not change across platforms or releases.
        #expect(tokenizer.encode("Hello world") == [Tokenizer.id(of: "Hello"), Tokenizer.id(of: " world")])
        #expect(Tokenizer.id(of: "Hello") == 73_579)
        #expect(Tokenizer.id(of: " world") == 34_717)
    }

    @Test func englishProseIsRoughlyFourCharactersPerToken() {
        let prose = """
            Continuous batching lets a model server add new requests to the running batch at every step, so the \
            accelerator stays busy while short requests finish early and long ones keep generating tokens.
            """
        let ratio = Double(prose.count) / Double(tokenizer.count(prose))
        print("characters per token:", ratio)
        #expect(ratio > 3.5 && ratio < 4.5, "ratio \(ratio)")
    }

    @Test func xxhash64MatchesTheReferenceVectors() {
        #expect(XXHash64.hash([UInt8]()) == 0xEF46_DB37_51D8_E999)
        #expect(XXHash64.hash(Array("a".utf8)) == 0xD24E_C4F1_A98C_6E5B)
        #expect(XXHash64.hash(Array("abc".utf8)) == 0x44BC_2CF5_AD77_0999)
        let long = Array("Nobody inspects the spammish repetition".utf8)
        #expect(XXHash64.hash(long) == 0xFBCE_A83C_8A37_8BF1)
    }

    @Test func blockHashesChainSoOnlyWholeSharedPrefixesMatch() {
        let hasher = PrefixBlockHasher(blockSize: 4)
        let a: [UInt32] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
        let b: [UInt32] = [1, 2, 3, 4, 5, 6, 7, 0, 9]
        let ha = hasher.blockHashes(tokens: a, model: "m")
        let hb = hasher.blockHashes(tokens: b, model: "m")
        #expect(ha.count == 2)
        #expect(ha[0] == hb[0])
        #expect(ha[1] != hb[1])
        #expect(hasher.blockHashes(tokens: a, model: "other")[0] != ha[0])
        #expect(hasher.blockHashes(tokens: [1, 2, 3], model: "m").isEmpty)
    }
}
