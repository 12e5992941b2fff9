import NIOCore
import NIOHTTP1

/// Reads HTTP/1.1 answers from the bytes of an upstream connection, a socket read at a time, one part per call to
/// `next()`. The gateway's own parser rather than NIO's so that a streamed answer's chunks can go on to the client
/// as they came (`passesChunksThrough`): one piece per read, no part per chunk, no framing rebuilt, which is most
/// of what relaying a token stream costs.
///
/// Follows RFC 9112's framing rules for a response: 1xx answers are heads alone (the real answer follows), 204 and
/// 304 have no body, `transfer-encoding` ending in `chunked` frames the body in chunks (any other coding, or no
/// length at all, runs the body to the close), `content-length` gives its size. An answer with both, a malformed
/// status line, header, chunk size or length, or a head over `maxHeadBytes` throws `UpstreamResponseError`; the
/// parser then stays failed. Trailers are read and dropped. The gateway sends no `HEAD` requests upstream, so every
/// other answer is taken to have a body as its headers say.
struct UpstreamResponseParser {
    /// Where in an answer the next byte is.
    enum State: Equatable {
        /// Before a status line.
        case head
        /// In a body of known length.
        case fixedBody(remaining: Int)
        /// At a chunk's size line.
        case chunkSize
        /// In a chunk's data; `passed` when its size line was passed through, so the rest of it is too.
        case chunkData(remaining: Int, passed: Bool)
        /// At the CRLF after a chunk's data.
        case chunkDataEnd(sawCR: Bool, passed: Bool)
        /// After the last chunk, at a trailer line or the empty line that ends the answer; `seen` bytes so far.
        case trailers(seen: Int)
        /// The body is all there: the end of the answer is next.
        case endDue
        /// In a body that ends when the connection closes.
        case untilClose
        /// After a malformed answer: nothing more is read.
        case failed
    }

    /// The most bytes a head (or an answer's trailers) may take.
    let maxHeadBytes: Int
    /// The longest chunk size line, extensions included.
    static let maxLineBytes = 4096

    private(set) var state = State.head
    /// Set to hand on a chunked body's chunks as they came (`.chunks`), from the next chunk boundary up to the last
    /// chunk; cleared at the end of each answer.
    var passesChunksThrough = false
    /// The bytes fed and not yet parsed.
    private var buffer = ByteBuffer()

    init(maxHeadBytes: Int = 64 * 1024) { self.maxHeadBytes = maxHeadBytes }

    /// Adds the bytes of one read.
    mutating func feed(_ bytes: ByteBuffer) {
        guard state != .failed else { return }
        if buffer.readableBytes == 0 {
            buffer = bytes
        } else {
            buffer.writeImmutableBuffer(bytes)
        }
    }

    /// The next part of the answer, or nil when the bytes fed so far hold no more (what is left is kept for the
    /// next read).
    mutating func next() throws -> UpstreamResponsePart? {
        do {
            let part = try parse()
            if part == nil, buffer.readableBytes == 0 { buffer = ByteBuffer() }
            return part
        } catch {
            state = .failed
            buffer = ByteBuffer()
            throw error
        }
    }

    /// The connection closed: the end of a body that runs to the close (nil otherwise; an answer cut short is the
    /// connection's failure, which its reader reports).
    mutating func finish() -> UpstreamResponsePart? {
        guard state == .untilClose else { return nil }
        state = .head
        return .end
    }

    private mutating func parse() throws -> UpstreamResponsePart? {
        if state == .endDue { return endOfAnswer() }
        while buffer.readableBytes > 0 {
            switch state {
            case .head:
                return try readHead()
            case .fixedBody(let remaining):
                let count = min(remaining, buffer.readableBytes)
                let body = buffer.readSlice(length: count)!
                state = count == remaining ? .endDue : .fixedBody(remaining: remaining - count)
                return .body(body)
            case .chunkSize where passesChunksThrough, .chunkData(_, passed: true), .chunkDataEnd(_, passed: true):
                if let chunks = try passChunks() { return chunks }
                // Nothing passed: the last chunk is next, or a size line not all here yet.
                guard try readChunkSizeLine() else { return nil }
            case .chunkSize:
                guard try readChunkSizeLine() else { return nil }
            case .chunkData(let remaining, passed: false):
                let count = min(remaining, buffer.readableBytes)
                let data = buffer.readSlice(length: count)!
                state =
                    count == remaining
                    ? .chunkDataEnd(sawCR: false, passed: false)
                    : .chunkData(remaining: remaining - count, passed: false)
                return .body(data)
            case .chunkDataEnd(let sawCR, passed: false):
                state = try Self.afterChunkData(buffer.readInteger(as: UInt8.self)!, sawCR: sawCR, passed: false)
            case .trailers(let seen):
                guard let line = try readLine(limit: maxHeadBytes - seen, what: "trailer section") else { return nil }
                if line.readableBytes == 0 { return endOfAnswer() }
                state = .trailers(seen: seen + line.readableBytes + 2)
            case .endDue:
                return endOfAnswer()
            case .untilClose:
                return .body(buffer.readSlice(length: buffer.readableBytes)!)
            case .failed:
                return nil
            }
        }
        return state == .endDue ? endOfAnswer() : nil
    }

    /// Reads a chunk size line (false when it is not all here yet) and moves on to the chunk's data, or to the
    /// trailers after the last chunk.
    private mutating func readChunkSizeLine() throws -> Bool {
        guard let line = try readLine(limit: Self.maxLineBytes, what: "chunk size line") else { return false }
        let size = try Self.chunkSize(line)
        state = size == 0 ? .trailers(seen: 0) : .chunkData(remaining: size, passed: false)
        return true
    }

    private mutating func endOfAnswer() -> UpstreamResponsePart {
        state = .head
        passesChunksThrough = false
        return .end
    }

    // MARK: Head

    private mutating func readHead() throws -> UpstreamResponsePart? {
        // Empty lines before a status line are skipped (RFC 9112, section 2.2).
        while let byte = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self), byte == .cr || byte == .lf {
            buffer.moveReaderIndex(forwardBy: 1)
        }
        guard let length = Self.headLength(buffer.readableBytesView) else {
            guard buffer.readableBytes <= maxHeadBytes else { throw UpstreamResponseError.headTooLarge(maxHeadBytes) }
            return nil
        }
        guard length <= maxHeadBytes else { throw UpstreamResponseError.headTooLarge(maxHeadBytes) }
        let head = try Self.parseHead(buffer.readSlice(length: length)!)
        let code = head.status.code
        if code < 200 && code != 101 { return .head(head) }
        state = try Self.bodyState(of: head)
        return .head(head)
    }

    /// The length of the head at the start of `bytes`, through the empty line that ends it; nil when it is not
    /// all there yet.
    static func headLength(_ bytes: ByteBufferView) -> Int? {
        var index = bytes.startIndex
        while let newline = bytes[index...].firstIndex(of: .lf) {
            let next = bytes.index(after: newline)
            guard next < bytes.endIndex else { return nil }
            if bytes[next] == .lf { return next + 1 - bytes.startIndex }
            if bytes[next] == .cr {
                let after = bytes.index(after: next)
                guard after < bytes.endIndex else { return nil }
                if bytes[after] == .lf { return after + 1 - bytes.startIndex }
            }
            index = next
        }
        return nil
    }

    /// Parses a whole head: a status line and header lines, each ending in LF or CRLF, and the empty line.
    static func parseHead(_ bytes: ByteBuffer) throws -> HTTPResponseHead {
        try bytes.withUnsafeReadableBytes { raw in
            var status: (HTTPVersion, HTTPResponseStatus)?
            var headers = HTTPHeaders()
            var start = 0
            while start < raw.count {
                var end = start
                while end < raw.count && raw[end] != .lf { end += 1 }
                let next = end + 1
                if end > start && raw[end - 1] == .cr { end -= 1 }
                let line = UnsafeRawBufferPointer(rebasing: raw[start..<end])
                start = next
                guard status != nil else {
                    guard !line.isEmpty else { throw UpstreamResponseError.malformed("empty status line") }
                    status = try parseStatusLine(line)
                    continue
                }
                if line.isEmpty { break }
                let (name, value) = try parseHeaderLine(line)
                headers.add(name: String(decoding: name, as: UTF8.self), value: String(decoding: value, as: UTF8.self))
            }
            guard let (version, code) = status else { throw UpstreamResponseError.malformed("empty status line") }
            return HTTPResponseHead(version: version, status: code, headers: headers)
        }
    }

    /// A header line's name and its value without the spaces around it.
    private static func parseHeaderLine(
        _ line: UnsafeRawBufferPointer
    ) throws -> (name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        guard line[0] != .space && line[0] != .tab else {
            throw UpstreamResponseError.malformed(
                "folded header line (obsolete line folding is not accepted): \(quoted(line))")
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > 0 else {
            throw UpstreamResponseError.malformed("header line without a name and colon: \(quoted(line))")
        }
        let name = UnsafeRawBufferPointer(rebasing: line[..<colon])
        guard name.allSatisfy(isTokenByte) else {
            throw UpstreamResponseError.malformed("invalid header name \(quoted(name))")
        }
        var first = colon + 1
        var end = line.count
        while first < end && (line[first] == .space || line[first] == .tab) { first += 1 }
        while end > first && (line[end - 1] == .space || line[end - 1] == .tab) { end -= 1 }
        let value = UnsafeRawBufferPointer(rebasing: line[first..<end])
        guard value.allSatisfy({ $0 >= 0x20 && $0 != 0x7F || $0 == .tab }) else {
            throw UpstreamResponseError.malformed("control character in the value of header \(quoted(name))")
        }
        return (name, value)
    }

    private static func parseStatusLine(_ bytes: UnsafeRawBufferPointer) throws -> (HTTPVersion, HTTPResponseStatus) {
        // "HTTP/1.1 200" then, optionally, a space and a reason phrase.
        guard bytes.count >= 12, bytes[0] == UInt8(ascii: "H"), bytes[1] == UInt8(ascii: "T"),
            bytes[2] == UInt8(ascii: "T"), bytes[3] == UInt8(ascii: "P"), bytes[4] == UInt8(ascii: "/"),
            isDigit(bytes[5]), bytes[6] == UInt8(ascii: "."), isDigit(bytes[7]), bytes[8] == .space,
            bytes[9...11].allSatisfy(isDigit), bytes.count == 12 || bytes[12] == .space
        else { throw UpstreamResponseError.malformed("invalid status line \(quoted(bytes))") }
        let version = HTTPVersion(major: Int(bytes[5] - 0x30), minor: Int(bytes[7] - 0x30))
        let code = bytes[9...11].reduce(0) { $0 * 10 + Int($1 - 0x30) }
        let reason =
            bytes.count > 13 ? String(decoding: UnsafeRawBufferPointer(rebasing: bytes[13...]), as: UTF8.self) : ""
        guard version.major == 1 else {
            throw UpstreamResponseError.malformed("unsupported HTTP version in status line \(quoted(bytes))")
        }
        guard code >= 100 else {
            throw UpstreamResponseError.malformed("invalid status code in status line \(quoted(bytes))")
        }
        return (version, HTTPResponseStatus(statusCode: code, reasonPhrase: reason))
    }

    /// Where the body of the answer `head` starts: its framing, per RFC 9112 section 6.3.
    private static func bodyState(of head: HTTPResponseHead) throws -> State {
        let code = head.status.code
        if code == 101 { return .untilClose }
        if code == 204 || code == 304 { return .endDue }
        let codings = head.headers["transfer-encoding"].flatMap { $0.split(separator: ",") }
            .map { $0.trimmingASCIISpaces() }.filter { !$0.isEmpty }
        let lengths = head.headers["content-length"].flatMap {
            $0.split(separator: ",", omittingEmptySubsequences: false)
        }
        .map { $0.trimmingASCIISpaces() }
        if !codings.isEmpty {
            guard lengths.isEmpty else {
                throw UpstreamResponseError.malformed("an answer with both transfer-encoding and content-length")
            }
            return codings.last!.lowercased() == "chunked" ? .chunkSize : .untilClose
        }
        guard let first = lengths.first else { return .untilClose }
        guard first.count <= 18, !first.isEmpty, first.utf8.allSatisfy(isDigit), let length = Int(first),
            lengths.allSatisfy({ $0 == first })
        else {
            let values = head.headers["content-length"].joined(separator: ", ")
            throw UpstreamResponseError.malformed("invalid content-length \(values.debugDescription)")
        }
        return length == 0 ? .endDue : .fixedBody(remaining: length)
    }

    // MARK: Chunks

    /// Passes on, as one `.chunks` piece, the whole chunks (and the rest of a passed chunk) at the front of the
    /// buffer; stops before the last chunk and before a size line the bytes end inside. Nil when it took nothing.
    ///
    /// Chunks go on unchanged only in one strict form, `1*HEXDIG CRLF data CRLF`, which every HTTP/1.1 parser reads
    /// the same way: a size line with an extension, whitespace or a bare LF ends the pass-through for the rest of
    /// the answer (its chunks are then unframed and framed anew), and a passed chunk's data not ended by CRLF is
    /// malformed.
    private mutating func passChunks() throws -> UpstreamResponsePart? {
        var state = self.state
        var strict = true
        defer {
            self.state = state
            if !strict { passesChunksThrough = false }
        }
        let consumed = try buffer.withUnsafeReadableBytes { bytes in
            var offset = 0
            scan: while offset < bytes.count {
                switch state {
                case .chunkSize:
                    guard let line = try Self.line(in: bytes, from: offset, what: "chunk size line") else { break scan }
                    let content = UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + line.content])
                    guard line.total == line.content + 2, content.allSatisfy({ Self.hexValue($0) != nil }) else {
                        strict = false
                        break scan
                    }
                    let size = try Self.chunkSize(content)
                    if size == 0 { break scan }
                    offset += line.total
                    state = .chunkData(remaining: size, passed: true)
                case .chunkData(let remaining, passed: true):
                    let count = min(remaining, bytes.count - offset)
                    offset += count
                    state =
                        count == remaining
                        ? .chunkDataEnd(sawCR: false, passed: true)
                        : .chunkData(remaining: remaining - count, passed: true)
                case .chunkDataEnd(let sawCR, passed: true):
                    if bytes[offset] == .lf && !sawCR {
                        throw UpstreamResponseError.malformed(
                            "a chunk passed through unchanged must end in CRLF, not a bare LF")
                    }
                    state = try Self.afterChunkData(bytes[offset], sawCR: sawCR, passed: true)
                    offset += 1
                default:
                    break scan
                }
            }
            return offset
        }
        guard consumed > 0 else { return nil }
        return .chunks(buffer.readSlice(length: consumed)!)
    }

    /// What follows `byte` at the end of a chunk's data: LF or CRLF, then the next size line.
    private static func afterChunkData(
        _ byte: UInt8, sawCR: Bool, passed: Bool
    ) throws
        -> State
    {
        if byte == .lf { return .chunkSize }
        if byte == .cr && !sawCR { return .chunkDataEnd(sawCR: true, passed: passed) }
        throw UpstreamResponseError.malformed("chunk data longer than its size line says")
    }

    /// The line at `offset`: its length without the line ending, and with it; nil when its LF has not come yet.
    private static func line(
        in bytes: UnsafeRawBufferPointer, from offset: Int, what: String
    ) throws -> (content: Int, total: Int)? {
        var index = offset
        while index < bytes.count && bytes[index] != .lf { index += 1 }
        guard index < bytes.count else {
            guard bytes.count - offset <= maxLineBytes else {
                throw UpstreamResponseError.malformed("\(what) longer than \(maxLineBytes) bytes")
            }
            return nil
        }
        let content = index > offset && bytes[index - 1] == .cr ? index - 1 - offset : index - offset
        return (content, index + 1 - offset)
    }

    /// Reads the next line (without its line ending), or nil when its LF has not come yet.
    private mutating func readLine(limit: Int, what: String) throws -> ByteBuffer? {
        guard let newline = buffer.readableBytesView.firstIndex(of: .lf) else {
            guard buffer.readableBytes <= limit else {
                throw UpstreamResponseError.malformed("\(what) longer than \(limit) bytes")
            }
            return nil
        }
        let total = newline + 1 - buffer.readerIndex
        guard total <= limit + 2 else { throw UpstreamResponseError.malformed("\(what) longer than \(limit) bytes") }
        var line = buffer.readSlice(length: total)!
        line.moveWriterIndex(to: line.writerIndex - 1)
        if line.readableBytesView.last == .cr { line.moveWriterIndex(to: line.writerIndex - 1) }
        return line
    }

    /// The size a chunk size line gives (hexadecimal, then optional whitespace and `;` extensions, which are
    /// ignored).
    static func chunkSize(_ line: ByteBuffer) throws -> Int {
        try line.withUnsafeReadableBytes { bytes in try chunkSize(bytes) }
    }

    private static func chunkSize(_ line: UnsafeRawBufferPointer) throws -> Int {
        var size = 0
        var index = 0
        while index < line.count, let digit = hexValue(line[index]) {
            guard index < 15 else { throw UpstreamResponseError.malformed("chunk size \(quoted(line)) is too large") }
            size = size << 4 | digit
            index += 1
        }
        guard index > 0 else { throw UpstreamResponseError.malformed("invalid chunk size line \(quoted(line))") }
        while index < line.count, line[index] == .space || line[index] == .tab { index += 1 }
        guard index == line.count || line[index] == UInt8(ascii: ";") else {
            throw UpstreamResponseError.malformed("invalid chunk size line \(quoted(line))")
        }
        return size
    }

    // MARK: Bytes

    private static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): Int(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    /// A `tchar` of RFC 9110: what a header name is made of.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
            UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            true
        default: false
        }
    }

    /// Up to 60 bytes of `bytes`, as a quoted string for an error message.
    private static func quoted<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String {
        let text = String(decoding: bytes.prefix(60), as: UTF8.self)
        return (bytes.count > 60 ? text + "…" : text).debugDescription
    }
}

extension UInt8 {
    fileprivate static let cr = UInt8(ascii: "\r")
    fileprivate static let lf = UInt8(ascii: "\n")
    fileprivate static let space = UInt8(ascii: " ")
    fileprivate static let tab = UInt8(ascii: "\t")
}

extension Substring {
    /// Without leading and trailing spaces and tabs.
    fileprivate func trimmingASCIISpaces() -> Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result = result.dropFirst() }
        while let last = result.last, last == " " || last == "\t" { result = result.dropLast() }
        return result
    }
}
