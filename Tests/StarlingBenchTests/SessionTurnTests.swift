import AsyncHTTPClient
import Foundation
import StarlingTestSupport
import Testing

@testable import StarlingBench
@testable import StarlingSimulator

#if canImport(Glibc)
import Glibc
#endif

/// Multi-turn runs: any number of a session's turns may wait, each goes in order, the run ends with its schedule
/// whatever the load, and every turn names its session.
@Suite(.serialized) final class SessionTurnTests {
    let client = BenchRunner.makeClient()

    deinit { try? client.syncShutdown() }

    @Test func severalWaitingTurnsOfOneSessionGoInOrder() async throws {
        let book = SessionBook()
        let order = OrderLog()
        let second = Task {
            let history = await book.history(before: sessionTurn(7, 1))
            await order.append("1:\(history?.count ?? -1)")
        }
        let third = Task {
            let history = await book.history(before: sessionTurn(7, 2))
            await order.append("2:\(history?.count ?? -1)")
        }
        try await Task.sleep(for: .milliseconds(50))
        #expect(await order.entries.isEmpty)
        book.finish(
            sessionTurn(7, 0), messages: [["role": "user", "content": "a"], ["role": "assistant", "content": "b"]])
        await second.value
        #expect(await order.entries == ["1:2"])
        book.finish(sessionTurn(7, 1), messages: [["role": "user", "content": "c"]])
        await third.value
        #expect(await order.entries == ["1:2", "2:3"])
    }

    @Test func closingLetsEveryWaitingTurnGoUnsent() async throws {
        let book = SessionBook()
        let waiting = (1...5).map { index in Task { await book.history(before: sessionTurn(index % 2, index)) } }
        try await Task.sleep(for: .milliseconds(50))
        #expect(book.close() == 5)
        for task in waiting { #expect(await task.value == nil) }
        #expect(await book.history(before: sessionTurn(9, 0)) == nil)
    }

    /// The run that hung: arrivals far outnumber what two sessions of four turns can take on a slow server.
    @Test func aMultiTurnRunEndsWithItsScheduleUnderOverload() async throws {
        try await withSimulator(edit: { $0.engine.maxNumSeqs = 1 }) { base in
            var target = BenchTarget(baseURL: base, models: ["starling/tiny"])
            target.api = .chat
            let schedule = ArrivalSchedule(stages: [LoadStage(rate: 20, duration: 1)], process: .constant, seed: 3)
            let items = PromptSource(
                kind: .multiTurn(sessions: 2, turns: 4, input: .fixed(20)), output: .fixed(40), seed: 3
            ).items(count: schedule.arrivals.count)
            let runner = BenchRunner(target: target, client: client)
            let started = ContinuousClock.now
            let finished = await finishing(within: .seconds(30)) { await runner.run(schedule: schedule, items: items) }
            let records = try #require(finished, "the run did not end with its schedule")
            #expect(ContinuousClock.now - started < .seconds(20))
            #expect(records.count == schedule.arrivals.count)
            let unsent = records.filter { $0.error == "unsent" }.count
            #expect(unsent > 0, "no turn was left waiting: the server was not slow enough")
            #expect(records.filter { $0.error != "unsent" }.allSatisfy { $0.succeeded })
        }
    }

    @Test func aStoppedRunSendsNothingMoreAndReportsWhatRan() async throws {
        try await withSimulator { base in
            let target = BenchTarget(baseURL: base, models: ["starling/tiny"])
            let schedule = ArrivalSchedule(stages: [LoadStage(rate: 20, duration: 30)], process: .constant, seed: 4)
            let items = PromptSource(kind: .synthetic(input: .fixed(10)), output: .fixed(4), seed: 4)
                .items(count: schedule.arrivals.count)
            let progress = BenchRunner.Progress()
            let runner = BenchRunner(target: target, client: client)
            let run = Task { await runner.run(schedule: schedule, items: items, progress: progress) }
            try await Task.sleep(for: .milliseconds(500))
            let stoppedAt = ContinuousClock.now
            progress.requestStop()
            let records = await run.value
            #expect(ContinuousClock.now - stoppedAt < .seconds(3))
            #expect(records.count > 3 && records.count < 40, "\(records.count) sent")
            #expect(records.allSatisfy { $0.succeeded })
            #expect(progress.inFlight == 0)
        }
    }

    /// Every turn carries its session's id in the header (and, when asked, as `user`); other requests carry none.
    @Test func turnsNameTheirSession() async throws {
        let server = try CapturingServer()
        defer { server.stop() }
        var target = BenchTarget(baseURL: "http://127.0.0.1:\(server.port)", models: ["m"])
        target.api = .chat
        target.stream = false
        target.sessionUser = true
        let items = PromptSource(
            kind: .multiTurn(sessions: 2, turns: 2, input: .fixed(5)), output: .fixed(2), seed: 5
        ).items(count: 4)
        // A pause after the arrivals: the second turns wait for the first, however slow the shared cores are.
        let schedule = ArrivalSchedule(
            stages: [LoadStage(rate: 40, duration: 0.1), LoadStage(rate: 0, duration: 5)], process: .constant, seed: 5)
        let records = await BenchRunner(target: target, client: client).run(schedule: schedule, items: items)
        #expect(records.count == 4 && records.allSatisfy { $0.succeeded })
        let requests = server.requests
        #expect(requests.count == 4)
        for (item, request) in zip(items, requests.sorted { $0.order < $1.order }) {
            _ = item
            #expect(request.head.lowercased().contains("x-session-id: session-"))
            #expect(request.body.contains("\"user\":\"session-"))
        }
        let sessions = Set(
            requests.compactMap { r in
                r.head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("x-session-id:") }
            })
        #expect(sessions.count == 2)
    }
}

/// `body`'s result, or nil if it has not finished within `limit` (a hung run fails the test instead of hanging it).
func finishing<T: Sendable>(within limit: Duration, _ body: @escaping @Sendable () async -> T) async -> T? {
    let (results, continuation) = AsyncStream.makeStream(of: T.self)
    let work = Task {
        continuation.yield(await body())
        continuation.finish()
    }
    let timer = Task {
        try? await Task.sleep(for: limit)
        continuation.finish()
    }
    defer { timer.cancel() }
    for await result in results { return result }
    work.cancel()
    return nil
}

func sessionTurn(_ session: Int, _ index: Int, last: Bool = false) -> PromptSource.Turn {
    PromptSource.Turn(session: session, index: index, isLast: last)
}

actor OrderLog {
    var entries: [String] = []
    func append(_ entry: String) { entries.append(entry) }
}

/// A plain HTTP/1.1 server on a loopback port that records each request and answers a fixed chat completion.
final class CapturingServer: @unchecked Sendable {
    // @unchecked: `captured` is only touched with `lock` held; the rest is set in init.
    struct Captured {
        var order: Int
        var head: String
        var body: String
    }

    let listener: Int32
    let port: Int
    private let socket: LoopbackListener
    private let lock = NSLock()
    private var captured: [Captured] = []

    var requests: [Captured] { lock.withLock { captured } }

    init() throws {
        socket = try LoopbackListener()
        listener = socket.fd
        port = socket.port
        let server = self
        Thread { server.acceptLoop() }.start()
    }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
    }

    private func acceptLoop() {
        while true {
            let fd = accept(listener, nil, nil)
            if fd < 0 { return }
            Thread { self.serve(fd) }.start()
        }
    }

    private func serve(_ fd: Int32) {
        defer { close(fd) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            guard let headEnd = data.range(of: Data("\r\n\r\n".utf8)) else {
                let n = read(fd, &buffer, buffer.count)
                if n <= 0 { return }
                data.append(contentsOf: buffer[0..<n])
                continue
            }
            let head = String(decoding: data[..<headEnd.lowerBound], as: UTF8.self)
            let length =
                head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
            while data.count < headEnd.upperBound + length {
                let n = read(fd, &buffer, buffer.count)
                if n <= 0 { return }
                data.append(contentsOf: buffer[0..<n])
            }
            let body = String(decoding: data[headEnd.upperBound..<(headEnd.upperBound + length)], as: UTF8.self)
            data.removeSubrange(..<(headEnd.upperBound + length))
            lock.withLock { captured.append(Captured(order: captured.count, head: head, body: body)) }
            let reply =
                #"{"choices":[{"message":{"role":"assistant","content":"ok"}}],"usage":{"prompt_tokens":5,"completion_tokens":2}}"#
            let response =
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: \(reply.utf8.count)\r\n\r\n"
                + reply
            _ = response.withCString { write(fd, $0, strlen($0)) }
        }
    }
}
