import Testing

@testable import StarlingSimulator

@Suite struct CalibrationTests {
    @Test func everyProfileStaysWithinToleranceOfItsPublishedFigures() {
        let results = Calibration.run()
        print(Calibration.markdownTable(results))
        #expect(results.count == Calibration.references.count)
        for result in results {
            #expect(
                result.withinTolerance,
                "\(result.reference.profile) \(result.reference.metric): model \(result.modelValue), published \(result.reference.published)"
            )
        }
    }

    @Test func everyBuiltInProfileExceptTinyHasAReference() {
        let referenced = Set(Calibration.references.map(\.profile))
        for profile in ProfileCatalog.all where profile.name != "tiny" {
            #expect(referenced.contains(profile.name), "\(profile.name) has no calibration reference")
        }
    }
}
