import StarlingTokenizer

/// Counts tokens with the shared tokenizer (kept apart so the server tests read as a client would).
enum StarlingTokenizerShim {
    static func count(_ text: String) -> Int { Tokenizer().count(text) }
}
