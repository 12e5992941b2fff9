import ArgumentParser
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
}
