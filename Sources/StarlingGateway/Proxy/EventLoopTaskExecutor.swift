import NIOCore

/// Runs a task's jobs on one SwiftNIO event loop. A connection's task runs where its channel does, so reading a
/// request, picking an endpoint and writing the answer need no hand-over between threads; with an upstream
/// connection on the same loop, neither does the call to the model server.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
