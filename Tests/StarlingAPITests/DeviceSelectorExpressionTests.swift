import Testing

@testable import StarlingAPI

/// The CEL subset of device selectors: what matches which device, and what is refused with the part named.
@Suite struct DeviceSelectorExpressionTests {
    static let gpu = SelectableDevice(
        driver: "gpu.nvidia.com",
        attributes: [
            "productName": .string("NVIDIA H100 80GB HBM3"), "type": .string("gpu"), "index": .int(3),
            "mig": .bool(false), "driverVersion": .version("550.54.15"), "cudaComputeCapability": .version("9.0.0"),
            "topology.starling.dev/rack": .string("rack-a"),
        ],
        capacity: ["memory": Quantity("80Gi")!, "multiprocessors": Quantity("132")!])

    static let mig = SelectableDevice(
        driver: "gpu.nvidia.com",
        attributes: ["type": .string("mig"), "profile": .string("3g.40gb"), "parentIndex": .int(0)],
        capacity: ["memory": Quantity("40Gi")!])

    struct Case: Sendable, CustomTestStringConvertible {
        var expression: String
        var gpu: Bool
        var mig: Bool
        var testDescription: String { expression }
    }

    static let matching: [Case] = [
        Case(expression: #"device.driver == "gpu.nvidia.com""#, gpu: true, mig: true),
        Case(expression: #"device.attributes["gpu.nvidia.com"].type == "gpu""#, gpu: true, mig: false),
        Case(expression: #"device.attributes["gpu.nvidia.com"].profile == "3g.40gb""#, gpu: false, mig: true),
        Case(
            expression: #"device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("40Gi")) >= 0"#, gpu: true,
            mig: true),
        Case(
            expression: #"device.capacity["gpu.nvidia.com"].memory.isGreaterThan(quantity("40Gi"))"#, gpu: true,
            mig: false),
        Case(expression: #"device.capacity["gpu.nvidia.com"].memory == quantity("40960Mi")"#, gpu: false, mig: true),
        Case(expression: #"device.attributes["gpu.nvidia.com"].index >= 2"#, gpu: true, mig: false),
        Case(expression: #"device.attributes["gpu.nvidia.com"].index < 2.5"#, gpu: false, mig: false),
        Case(
            expression: #"device.attributes["gpu.nvidia.com"].driverVersion.compareTo(semver("550.0.0")) > 0"#,
            gpu: true, mig: false),
        Case(
            expression: #"device.attributes["gpu.nvidia.com"].cudaComputeCapability.isLessThan(semver("10.0.0"))"#,
            gpu: true, mig: false),
        Case(expression: #"device.attributes["gpu.nvidia.com"].driverVersion.major() == 550"#, gpu: true, mig: false),
        // An attribute the device lacks is no match, and `||` lets the other side decide.
        Case(
            expression:
                #"device.attributes["gpu.nvidia.com"].mig == false || device.attributes["gpu.nvidia.com"].profile == "3g.40gb""#,
            gpu: true, mig: true),
        Case(
            expression: #"device.attributes["gpu.nvidia.com"].profile == "3g.40gb" && device.driver == "x""#,
            gpu: false, mig: false),
        Case(expression: #"!(device.attributes["gpu.nvidia.com"].type == "mig")"#, gpu: true, mig: false),
        Case(expression: #""profile" in device.attributes["gpu.nvidia.com"]"#, gpu: false, mig: true),
        Case(expression: #"device.attributes["gpu.nvidia.com"].type in ["gpu", "vgpu"]"#, gpu: true, mig: false),
        Case(expression: #"device.attributes["topology.starling.dev"].rack == 'rack-a'"#, gpu: true, mig: false),
        Case(
            expression: #"device.attributes["gpu.nvidia.com"].productName.startsWith("NVIDIA H100")"#, gpu: true,
            mig: false),
        Case(expression: #"device.attributes["other.vendor"].type == "gpu""#, gpu: false, mig: false),
        Case(expression: "true", gpu: true, mig: true),
    ]

    @Test(arguments: matching) func matches(_ c: Case) throws {
        let expression = try DeviceSelectorExpression(c.expression)
        #expect(expression.matches(Self.gpu) == c.gpu)
        #expect(expression.matches(Self.mig) == c.mig)
    }

    static let refused: [(String, String)] = [
        (
            #"device.attributes["a"].x + 1 > 2"#,
            "unsupported `+`: arithmetic is outside the selector subset at column 26"
        ),
        (#"device.attributes["a"].x > 1 ? true : false"#, "the conditional operator"),
        (#"device.attributes["a"].all(x, x)"#, "unsupported method `all`"),
        (#"device.attributes["a"].name.matches("H1.*")"#, "unsupported method `matches`"),
        (#"has(device.attributes["a"].x)"#, "unsupported `has`"),
        (#"node.name == "x""#, "unknown name `node`: a selector reads only `device`"),
        (#"device.pool == "x""#, "`device` has no field `pool`"),
        (#"device.driver == "#, "unexpected the end of the expression"),
        (#"device.driver == "x"#, "a string is not closed"),
        (#"(device.driver == "x""#, "expecting `)`"),
        ("", "the expression is empty"),
        (#"device.driver"#, "the expression yields a string, not a bool"),
        (#"device.capacity["a"].memory >= quantity("40Gi")"#, "`>=` does not order a quantity: use compareTo"),
        (#"semver("1.2")  == semver("1.2.0")"#, "\"1.2\" is not a semantic version"),
        (#"device.capacity["a"].memory == quantity("lots")"#, "\"lots\" is not a quantity"),
        (#"device.driver == 3"#, "`==` cannot compare a string with an int"),
        (#"quantity(device.driver) == quantity("1")"#, "`quantity` takes a string literal"),
    ]

    @Test(arguments: refused) func refusesWhatIsOutsideTheSubset(_ expression: String, _ part: String) {
        #expect {
            try DeviceSelectorExpression(expression)
        } throws: { error in
            "\(error)".contains(part)
        }
    }

    @Test(arguments: [
        ("40Gi", 42_949_672_960.0), ("80G", 80e9), ("500m", 0.5), ("1.5", 1.5), ("2e3", 2000), ("-1Ki", -1024),
        ("132", 132),
    ])
    func quantities(_ text: String, _ value: Double) {
        #expect(Quantity(text)?.value == value)
    }

    @Test(arguments: ["", "Gi", "1.2.3", "4GB", "1e", "1 Gi", "."]) func badQuantities(_ text: String) {
        #expect(Quantity(text) == nil)
    }

    @Test func versionsOrderBySemver() throws {
        let ordered = [
            "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.2.0", "10.0.0",
        ]
        let versions = try ordered.map { try #require(SemanticVersion($0)) }
        #expect(versions == versions.sorted())
        #expect(SemanticVersion("1.0.0+build.5") == SemanticVersion("1.0.0"))
        #expect(SemanticVersion("1.0") == nil && SemanticVersion("v1.0.0") == nil)
    }
}
