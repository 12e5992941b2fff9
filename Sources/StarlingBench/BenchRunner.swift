import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import StarlingTokenizer
import Synchronization

/// Drives load at a target and records every request.
///
/// Open loop: the arrival schedule is computed before the run; a dispatcher sends each request at its time in its
/// own task, whether or not earlier ones have answered, and records how late it went out. Closed loop
/// (`concurrency`): that many clients send back to back for a duration.
public struct BenchRunner: Sendable {
    public var target: BenchTarget
    public var client: HTTPClient

    /// - Parameter client: must allow as many connections per host as requests in flight (see `makeClient`);
    ///   a pooled client that queues requests would hide server queueing inside the client.
    public init(target: BenchTarget, client: HTTPClient) {
        self.target = target
        self.client = client
    }

    /// An HTTP client that never makes a request wait for a connection (HTTP/1.1, no per-host cap); shut it down
    /// after the run.
    public static func makeClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 1 << 20
        configuration.httpVersion = .http1Only
        configuration.decompression = .disabled
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    /// Live counters for a progress display.
    public final class Progress: Sendable {
        public let sent = Atomic<Int>(0)
        public let finished = Atomic<Int>(0)
        public let failed = Atomic<Int>(0)
        public let tokens = Atomic<Int>(0)
        /// Set by `requestStop()`: no new request goes out after it.
        public let stopRequested = Atomic<Bool>(false)
        private let recentTTFT = Mutex<[Double]>([])
        public init() {}

        /// Stops sending (an interrupted run): the runner sends nothing new and ends once in-flight requests do.
        public func requestStop() { stopRequested.store(true, ordering: .relaxed) }

        /// Whether a stop was requested.
        public var isStopping: Bool { stopRequested.load(ordering: .relaxed) }
        public var inFlight: Int { sent.load(ordering: .relaxed) - finished.load(ordering: .relaxed) }

        func record(timeToFirstToken: Double) {
            recentTTFT.withLock { recent in
                recent.append(timeToFirstToken)
                if recent.count > 2048 { recent.removeFirst(1024) }
            }
        }

        /// Median TTFT of the most recent requests.
        public var recentMedianTTFT: Double? {
            let values = recentTTFT.withLock { $0 }.sorted()
            return values.isEmpty ? nil : values[values.count / 2]
        }
    }

    /// Sends `items[i]` at `schedule.arrivals[i]`; returns one record per request sent, in schedule order. A
    /// session turn whose previous turn has not finished by its time goes out when it finishes (its send lag
    /// counts from then); one still waiting when the schedule ends is not sent and is recorded as `unsent`. A stop
    /// (`progress.requestStop()`) or cancellation ends the dispatching at once; cancellation also ends the
    /// requests in flight (recorded as `cancelled`).
    public func run(
        schedule: ArrivalSchedule, items: [PromptSource.Item], progress: Progress = Progress()
    ) async -> [RequestRecord] {
        let start = ContinuousClock.now
        let count = min(schedule.arrivals.count, items.count)
        let sessions = SessionBook()
        return await withTaskGroup(of: (Int, RequestRecord).self) { group in
            var dispatched = 0
            for index in 0..<count {
                let arrival = schedule.arrivals[index]
                guard await Self.sleep(until: start + .seconds(arrival.time), unlessStopped: progress) else { break }
                let item = items[index]
                progress.sent.add(1, ordering: .relaxed)
                dispatched += 1
                group.addTask {
                    let record = await send(
                        item, stage: arrival.stage, scheduled: arrival.time, start: start, sessions: sessions,
                        progress: progress)
                    return (index, record)
                }
            }
            // The schedule's end: turns still waiting for their session are not sent.
            _ = await Self.sleep(until: start + .seconds(schedule.totalDuration), unlessStopped: progress)
            sessions.close()
            var records = [RequestRecord?](repeating: nil, count: count)
            for await (index, record) in group { records[index] = record }
            return records.prefix(dispatched).compactMap { $0 }
        }
    }

    /// Sleeps until `deadline` in slices of at most 100 ms, so that a stop is seen within one; false when the run
    /// was stopped or cancelled instead.
    static func sleep(until deadline: ContinuousClock.Instant, unlessStopped progress: Progress) async -> Bool {
        while true {
            if progress.isStopping || Task.isCancelled { return false }
            let now = ContinuousClock.now
            if now >= deadline { return true }
            let wake = min(deadline, now + .milliseconds(100))
            do {
                try await Task.sleep(until: wake, tolerance: .zero, clock: .continuous)
            } catch {
                return false
            }
        }
    }

    /// `concurrency` clients, each sending the next item as soon as its previous request ends, for `duration`.
    public func run(
        concurrency: Int, duration: Double, items: [PromptSource.Item], progress: Progress = Progress()
    ) async -> [RequestRecord] {
        let start = ContinuousClock.now
        let end = start + .seconds(duration)
        let tickets = Tickets()
        let sessions = SessionBook()
        return await withTaskGroup(of: [RequestRecord].self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var records: [RequestRecord] = []
                    while ContinuousClock.now < end && !progress.isStopping && !Task.isCancelled {
                        let index = tickets.next.add(1, ordering: .relaxed).oldValue
                        let item = items[index % items.count]
                        let now = (ContinuousClock.now - start).seconds
                        progress.sent.add(1, ordering: .relaxed)
                        records.append(
                            await send(
                                item, stage: 0, scheduled: now, start: start, sessions: sessions, progress: progress))
                    }
                    return records
                }
            }
            var all: [RequestRecord] = []
            for await records in group { all += records }
            sessions.close()
            return all.sorted { $0.timing.sent < $1.timing.sent }
        }
    }

    /// The text of a non-streaming completion or chat response.
    static func replyText(_ body: Data) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
            let choice = (object["choices"] as? [[String: Any]])?.first
        else { return nil }
        return (choice["message"] as? [String: Any])?["content"] as? String ?? choice["text"] as? String
    }

    /// Hands out item indexes to closed-loop clients.
    final class Tickets: Sendable {
        let next = Atomic<Int>(0)
    }

    func send(
        _ item: PromptSource.Item, stage: Int, scheduled: Double, start: ContinuousClock.Instant,
        sessions: SessionBook, progress: Progress
    ) async -> RequestRecord {
        func now() -> Double { (ContinuousClock.now - start).seconds }
        let model = item.model ?? target.models.first ?? ""
        var scheduled = scheduled
        var history: [[String: String]] = []
        if let turn = item.turn {
            guard let earlier = await sessions.history(before: turn) else {
                progress.finished.add(1, ordering: .relaxed)
                return RequestRecord(
                    stage: stage, model: model, timing: RequestTiming(scheduled: scheduled, sent: now()),
                    inputTokens: nil, outputTokens: 0, status: nil, error: "unsent", endpoint: nil)
            }
            history = earlier
            scheduled = max(scheduled, now())
        }
        var request = HTTPClientRequest(url: target.baseURL + target.path)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        for (name, value) in target.headers { request.headers.add(name: name, value: value) }
        let session = item.turn.map { target.sessionID($0.session) }
        if let session, let header = target.sessionHeader { request.headers.replaceOrAdd(name: header, value: session) }
        request.body = .bytes(
            ByteBuffer(
                bytes: target.body(
                    model: model, prompt: item.prompt, maxTokens: item.outputTokens, system: item.system,
                    history: history, user: target.sessionUser ? session : nil)))
        var record = RequestRecord(
            stage: stage, model: model, timing: RequestTiming(scheduled: scheduled, sent: now()), inputTokens: nil,
            outputTokens: 0, status: nil, error: nil, endpoint: nil)
        var reply: String?
        defer {
            if let ttft = record.timing.timeToFirstToken { progress.record(timeToFirstToken: ttft) }
            progress.finished.add(1, ordering: .relaxed)
            if record.error != nil { progress.failed.add(1, ordering: .relaxed) }
            if let turn = item.turn {
                var messages = item.system.map { [["role": "system", "content": $0]] } ?? []
                messages.append(["role": "user", "content": item.prompt])
                if let reply, record.error == nil { messages.append(["role": "assistant", "content": reply]) }
                sessions.finish(turn, messages: messages)
            }
        }
        do {
            let response = try await client.execute(request, timeout: .milliseconds(Int64(target.timeout * 1000)))
            record.status = Int(response.status.code)
            record.endpoint = target.endpoint(in: response.headers)
            guard response.status.code < 300 else {
                record.error = response.status.code >= 500 ? "http_5xx" : "http_4xx"
                _ = try? await response.body.collect(upTo: 1 << 20)
                record.timing.end = now()
                return record
            }
            if target.stream {
                var parser = StreamParser()
                parser.collectsText = item.turn != nil
                for try await buffer in response.body {
                    let time = now()
                    let events = buffer.withUnsafeReadableBytes { parser.feed($0) }
                    if events > 0 {
                        record.timing.chunks.append(.init(time: time, tokens: events))
                        progress.tokens.add(events, ordering: .relaxed)
                    }
                }
                record.timing.end = now()
                record.inputTokens = parser.promptTokens
                record.outputTokens = parser.completionTokens ?? record.timing.outputTokens
                if !parser.done { record.error = "stream" }
                reply = parser.text
            } else {
                let body = try await response.body.collect(upTo: 64 << 20)
                let time = now()
                let bytes = Array(buffer: body)[...]
                let completion = StreamParser.integer(after: Array("\"completion_tokens\":".utf8), in: bytes) ?? 0
                record.inputTokens = StreamParser.integer(after: Array("\"prompt_tokens\":".utf8), in: bytes)
                record.outputTokens = completion
                record.timing.chunks = [.init(time: time, tokens: completion)]
                record.timing.end = time
                progress.tokens.add(completion, ordering: .relaxed)
                if item.turn != nil { reply = Self.replyText(Data(body.readableBytesView)) }
            }
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            record.error = "timeout"
            record.timing.end = nil
        } catch let error as HTTPClientError where error == .cancelled {
            record.error = "cancelled"
        } catch is CancellationError {
            record.error = "cancelled"
        } catch {
            record.error = record.status == nil ? "connection" : "stream"
        }
        return record
    }
}
