import Foundation
import StarlingTokenizer
import Testing

@testable import StarlingBench

@Suite struct PromptSourceTests {
    @Test func syntheticPromptsHaveTheAskedLengthsInStarlingTokens() {
        let items = PromptSource(kind: .synthetic(input: .uniform(min: 20, max: 40)), output: .fixed(7), seed: 9)
            .items(count: 50)
        let tokenizer = Tokenizer()
        #expect(items.allSatisfy { tokenizer.count($0.prompt) == $0.inputTokens && $0.outputTokens == 7 })
        #expect(items.allSatisfy { (20...40).contains($0.inputTokens) })
    }

    @Test func sharedPrefixPromptsShareExactlyTheirGroupsPrefix() {
        let source = PromptSource(
            kind: .sharedPrefix(groups: 3, prefixLength: 32, questionLength: 8, questionsPerGroup: 4),
            output: .fixed(5), seed: 4)
        let items = source.items(count: 12)
        let tokenizer = Tokenizer()
        #expect(items.allSatisfy { tokenizer.count($0.prompt) == 40 })
        let byGroup = Dictionary(grouping: items, by: { $0.group! })
        #expect(byGroup.count == 3 && byGroup.values.allSatisfy { $0.count == 4 })
        for (_, members) in byGroup {
            let prefixes = Set(members.map { $0.prompt.split(separator: " ").prefix(32).joined(separator: " ") })
            #expect(prefixes.count == 1)
            #expect(Set(members.map(\.prompt)).count == 4)
        }
        let firstWords = Set(byGroup.values.map { $0[0].prompt.split(separator: " ").prefix(32).joined() })
        #expect(firstWords.count == 3)
    }

    @Test func multiTurnSessionsRunInterleavedWithTheirTurnsInOrder() {
        let items = PromptSource(
            kind: .multiTurn(sessions: 3, turns: 4, input: .fixed(6)), output: .fixed(5), seed: 1
        ).items(count: 30)
        let turns = items.map { $0.turn! }
        // Three sessions at a time, one turn each in rotation; a finished session's slot starts a new one.
        #expect(turns.prefix(6).map(\.session) == [0, 1, 2, 0, 1, 2])
        #expect(turns.prefix(6).map(\.index) == [0, 0, 0, 1, 1, 1])
        #expect(turns[12].session == 3 && turns[12].index == 0)
        for (_, session) in Dictionary(grouping: turns, by: \.session) {
            #expect(session.map(\.index) == Array(0..<session.count))
            #expect(session.filter(\.isLast).count <= 1)
            if session.count == 4 { #expect(session.last?.isLast == true) }
        }
        #expect(items.allSatisfy { $0.inputTokens == 6 && $0.outputTokens == 5 })
    }

    @Test func modelMixGivesExactSharesSpreadEvenly() {
        var mix = ModelMix([WeightedModel(name: "a", weight: 3), WeightedModel(name: "b", weight: 1)])
        let names = (0..<400).map { _ in mix.next()! }
        #expect(names.filter { $0 == "a" }.count == 300)
        // Never more than three a's in a row: b is spread, not bunched at the end.
        #expect(!names.joined().contains("aaaa"))
        var empty = ModelMix([])
        #expect(empty.next() == nil)
    }

    @Test func loraMixAssignsAModelPerRequestAndOnePerSession() {
        let mix = [WeightedModel(name: "base", weight: 1), WeightedModel(name: "sql-lora", weight: 1)]
        let single = PromptSource(kind: .synthetic(input: .fixed(4)), output: .fixed(4), models: mix, seed: 1)
            .items(count: 10)
        #expect(single.map(\.model) == Array(repeating: ["base", "sql-lora"], count: 5).flatMap { $0 })
        let sessions = PromptSource(
            kind: .multiTurn(sessions: 2, turns: 3, input: .fixed(4)), output: .fixed(4), models: mix, seed: 1
        ).items(count: 12)
        for (_, turns) in Dictionary(grouping: sessions, by: { $0.turn!.session }) {
            #expect(Set(turns.map(\.model)).count == 1)
        }
    }

    static let shareGPT = """
        [{"id": "a", "conversations": [
            {"from": "human", "value": "What is the capital of France?"},
            {"from": "gpt", "value": "Paris is the capital of France and its largest city."},
            {"from": "human", "value": "And of Spain?"},
            {"from": "gpt", "value": "Madrid."}]},
         {"id": "b", "conversations": [
            {"from": "system", "value": "Be brief."},
            {"from": "human", "value": "Say hi"},
            {"from": "gpt", "value": "Hi there!"}]},
         {"id": "c", "conversations": [{"from": "gpt", "value": "no question"}]}]
        """

    @Test func shareGPTFilesGiveFirstQuestionsWithTheirReplyLengths() throws {
        let dataset = try ConversationDataset.parse(Data(Self.shareGPT.utf8), source: "sg.json")
        #expect(dataset.conversations.count == 2 && dataset.skipped == 1)
        let items = PromptSource(kind: .dataset(dataset, sessions: nil), output: nil, seed: 3).items(count: 4)
        let tokenizer = Tokenizer()
        for item in items {
            let reply =
                item.prompt.hasPrefix("What") ? "Paris is the capital of France and its largest city." : "Hi there!"
            #expect(item.outputTokens == tokenizer.count(reply))
            #expect(item.inputTokens == tokenizer.count(item.prompt))
            #expect(item.turn == nil)
        }
        #expect(Set(items.map(\.prompt)) == ["What is the capital of France?", "Say hi"])
        #expect(items.first { $0.prompt == "Say hi" }?.system == "Be brief.")
        // An explicit output length wins over the replies'.
        let fixed = PromptSource(kind: .dataset(dataset, sessions: nil), output: .fixed(9), seed: 3).items(count: 2)
        #expect(fixed.allSatisfy { $0.outputTokens == 9 })
    }

    @Test func datasetConversationsReplayAsSessions() throws {
        let dataset = try ConversationDataset.parse(Data(Self.shareGPT.utf8), source: "sg.json")
        let items = PromptSource(kind: .dataset(dataset, sessions: 1), output: nil, seed: 0).items(count: 5)
        let france = items.filter { $0.turn?.session == items.first { $0.prompt.hasPrefix("What") }?.turn?.session }
        #expect(france.map(\.prompt) == ["What is the capital of France?", "And of Spain?"])
        #expect(france.map { $0.turn!.isLast } == [false, true])
        #expect(france.last?.outputTokens == Tokenizer().count("Madrid."))
    }

    @Test func jsonLinesAndOpenAIMessagesAreRead() throws {
        let text = """
            {"messages": [{"role": "user", "content": "one"}, {"role": "assistant", "content": "two three"}]}

            {"conversations": [{"from": "human", "value": "four"}]}
            """
        let dataset = try ConversationDataset.parse(Data(text.utf8), source: "d.jsonl")
        #expect(dataset.conversations.count == 2)
        #expect(dataset.conversations[0] == [.init(.user, "one"), .init(.assistant, "two three")])
    }

    @Test(arguments: [
        (
            "[{\"conversations\": [{\"from\": \"bot\", \"value\": \"x\"}]}]",
            "d.json[0].conversations[0].from: \"bot\" is not one of"
        ),
        ("[{\"conversations\": [{\"from\": \"human\"}]}]", "d.json[0].conversations[0].value: Required value"),
        ("[{\"turns\": []}]", "d.json[0]: expected a \"conversations\" (ShareGPT) or \"messages\" array"),
        ("{\"conversations\": []}\n{oops", "d.json:2: not valid JSON"),
        ("[1, 2", "d.json: not a valid JSON array"),
        (
            "[{\"conversations\": [{\"from\": \"gpt\", \"value\": \"x\"}]}]",
            "d.json: none of 1 entries has a user message"
        ),
        ("", "d.json: no conversations"),
    ])
    func badDatasetsAreNamedByEntryAndField(text: String, message: String) {
        #expect {
            _ = try ConversationDataset.parse(Data(text.utf8), source: "d.json")
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test func streamedTextIsDecodedWithEscapes() {
        let event = Array(#"{"text":"a\"b\\ c\n\u00e9\ud83d\ude00 d","x":1}"#.utf8)[...]
        let start = StreamParser.find(Array("\"text\":\"".utf8), in: event)!
        #expect(StreamParser.jsonString(startingAt: start, in: event) == "a\"b\\ c\né😀 d")
        var parser = StreamParser()
        parser.collectsText = true
        let stream =
            "data: {\"choices\":[{\"delta\":{\"content\":\"Hello\"}}]}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\" world\"}}]}\n\ndata: [DONE]\n\n"
        let events = Array(stream.utf8).withUnsafeBytes { parser.feed($0) }
        #expect(events == 2 && parser.text == "Hello world" && parser.done)
    }
}
