import NIOCore

/// Times the tokens of a server-sent event stream as they pass the gateway: the first chunk that carries text
/// (a completion's `"text":"x` or a chat delta's `"content":"x`) and the gaps between such chunks.
struct TokenTimer {
    let start: ContinuousClock.Instant
    var firstToken: Duration?
    var last: ContinuousClock.Instant?
    var gaps: [Duration] = []

    init(start: ContinuousClock.Instant) { self.start = start }

    static let markers = [Array(#""text":""#.utf8), Array(#""content":""#.utf8)]

    mutating func observe(_ chunk: ByteBuffer) {
        guard Self.carriesText(chunk.readableBytesView) else { return }
        let now = ContinuousClock.now
        if let last {
            gaps.append(now - last)
        } else {
            firstToken = now - start
        }
        last = now
    }

    static func carriesText(_ bytes: ByteBufferView) -> Bool {
        bytes.withUnsafeBytes { raw in
            let end = raw.count
            var i = 0
            while i < end {
                if raw[i] == UInt8(ascii: "\"") {
                    for marker in markers where end - i > marker.count {
                        var k = 1
                        while k < marker.count && raw[i + k] == marker[k] { k += 1 }
                        if k == marker.count && raw[i + k] != UInt8(ascii: "\"") { return true }
                    }
                }
                i += 1
            }
            return false
        }
    }
}
