import NIOCore

/// Times the tokens of a server-sent event stream as they pass the gateway: the first event that carries text
/// (a completion's `"text":"x` or a chat delta's `"content":"x`) and the gaps between such events. Bytes are looked
/// at as they arrive, framed in chunks or not, and however they are cut: events that arrive together count as tokens
/// at the same instant.
struct TokenTimer {
    let start: ContinuousClock.Instant
    var firstToken: Duration?
    var last: ContinuousClock.Instant?
    var gaps: [Duration] = []
    /// The end of the bytes seen last, as long as the longest marker: one may go on in the next bytes.
    private var tail: [UInt8] = []

    init(start: ContinuousClock.Instant) { self.start = start }

    static let markers = [Array(#""text":""#.utf8), Array(#""content":""#.utf8)]
    private static let longestMarker = markers.map(\.count).max()!

    mutating func observe(_ bytes: ByteBuffer) {
        let events = bytes.withUnsafeReadableBytes { raw in
            var events = Self.textEvents(in: raw)
            if !tail.isEmpty { events += Self.textEvents(startingIn: tail, continuedBy: raw) }
            keepTail(of: raw)
            return events
        }
        guard events > 0 else { return }
        let now = ContinuousClock.now
        if let last {
            gaps.append(now - last)
        } else {
            firstToken = now - start
            // A stream is hundreds of tokens: grown from empty, the array would be copied eight times.
            gaps.reserveCapacity(256)
        }
        if events > 1 { gaps.append(contentsOf: repeatElement(.zero, count: events - 1)) }
        last = now
    }

    private mutating func keepTail(of bytes: UnsafeRawBufferPointer) {
        // Events end in a newline, and so does a chunk: then no marker goes on (the common case, kept cheap).
        if bytes.last == UInt8(ascii: "\n") {
            if !tail.isEmpty { tail.removeAll(keepingCapacity: true) }
            return
        }
        let keep = Self.longestMarker
        if bytes.count >= keep {
            tail.removeAll(keepingCapacity: true)
            tail.append(contentsOf: bytes.suffix(keep))
        } else {
            tail.append(contentsOf: bytes)
            if tail.count > keep { tail.removeFirst(tail.count - keep) }
        }
    }

    /// How many markers followed by text start in `tail` (the end of the bytes before) and end in `bytes`.
    static func textEvents(startingIn tail: [UInt8], continuedBy bytes: UnsafeRawBufferPointer) -> Int {
        guard let firstQuote = tail.firstIndex(of: UInt8(ascii: "\"")) else { return 0 }
        func byte(_ index: Int) -> UInt8? {
            index < tail.count ? tail[index] : bytes.dropFirst(index - tail.count).first
        }
        var count = 0
        for start in firstQuote..<tail.count where tail[start] == UInt8(ascii: "\"") {
            for marker in markers where start + marker.count >= tail.count {
                guard (0..<marker.count).allSatisfy({ byte(start + $0) == marker[$0] }),
                    let next = byte(start + marker.count), next != UInt8(ascii: "\"")
                else { continue }
                count += 1
            }
        }
        return count
    }

    /// How many events with text `bytes` holds: the markers followed by text (not by the quote that closes an
    /// empty string).
    static func textEvents(in bytes: ByteBufferView) -> Int {
        bytes.withUnsafeBytes { textEvents(in: $0) }
    }

    /// `textEvents(in:)` of raw bytes.
    static func textEvents(in raw: UnsafeRawBufferPointer) -> Int {
        // Eight bytes compared at once at each quote: `"text":"` whole, or the start of `"content":"`. An event
        // is a few hundred bytes with dozens of quotes and one marker, so a plain loop beats a call per quote.
        let text = word(textMarker)
        let content = word(contentMarker)
        let quote = UInt8(ascii: "\""), colon = UInt8(ascii: ":")
        let end = raw.count
        var count = 0
        var i = 0
        while end - i > 8 {
            if raw[i] == quote {
                let here = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                if here == text, raw[i + 8] != quote {
                    count += 1
                    i += 9
                    continue
                }
                if here == content, end - i > 11, raw[i + 8] == quote, raw[i + 9] == colon,
                    raw[i + 10] == quote, raw[i + 11] != quote
                {
                    count += 1
                    i += 12
                    continue
                }
            }
            i += 1
        }
        return count
    }

    /// The two markers of `markers`, as constants (no lazy global to check on every call).
    static var textMarker: StaticString { #""text":""# }
    static var contentMarker: StaticString { #""content":""# }

    /// The first eight bytes of `marker`, as `loadUnaligned` reads them from a buffer.
    private static func word(_ marker: StaticString) -> UInt64 {
        UnsafeRawPointer(marker.utf8Start).loadUnaligned(as: UInt64.self)
    }
}
