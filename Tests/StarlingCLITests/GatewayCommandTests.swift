import ArgumentParser
import StarlingClient
import StarlingGateway
import Testing

@testable import StarlingCLI

@Suite struct GatewayCommandTests {
    @Test func eventLoopsComeFromTheFlag() throws {
        let command = try GatewayCommand.parse(["--endpoint", "http://127.0.0.1:8000", "--event-loops", "4"])
        #expect(try command.makeConfiguration().eventLoops == 4)
        let plain = try GatewayCommand.parse(["--endpoint", "http://127.0.0.1:8000"])
        #expect(try plain.makeConfiguration().eventLoops == 1)
    }

    @Test(arguments: [0, -1, 257])
    func eventLoopsOutOfRangeAreNamed(_ loops: Int) throws {
        let command = try GatewayCommand.parse(["--endpoint", "http://127.0.0.1:8000", "--event-loops=\(loops)"])
        #expect {
            try command.makeConfiguration()
        } throws: { error in
            String(describing: error) == "--event-loops: must be 1-256, got \(loops)"
        }
    }

    @Test func throttlingComesFromTheFlagsAndBadValuesAreNamed() throws {
        let command = try OperatorCommand.parse(["--kube-api-qps", "7.5", "--kube-api-burst", "3"])
        #expect(command.cluster.rateLimit == RateLimit(qps: 7.5, burst: 3))
        #expect(try OperatorCommand.parse([]).cluster.rateLimit == RateLimit.componentDefault)
        for (arguments, message) in [
            (["--kube-api-qps=0"], "--kube-api-qps: Invalid value: 0.0: must be a positive number"),
            (["--kube-api-burst=0"], "--kube-api-burst: Invalid value: 0: must be >= 1"),
        ] {
            #expect {
                _ = try GatewayCommand.parse(["--from-cluster"] + arguments)
            } throws: { error in
                GatewayCommand.message(for: error) == message
            }
        }
    }
}
