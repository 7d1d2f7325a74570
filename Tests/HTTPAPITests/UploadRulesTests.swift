import Testing

@testable import HTTPAPI

/// The protocol's decisions without files or a database: every state an append can meet.
@Suite struct UploadRulesTests {
    typealias State = UploadRules.State
    typealias Request = UploadRules.Request

    @Test func appendsFollowTheOffsetAndTheLength() {
        let max: Int64 = 1000
        let cases: [(State, Request, UploadRules.Decision)] = [
            (State(offset: 10), Request(offset: 10, complete: false, bodyLength: 5), .append(length: nil)),
            (State(offset: 10), Request(offset: 10, complete: false), .append(length: nil)),
            (State(offset: 10), Request(offset: 9, complete: false), .mismatchingOffset(expected: 10)),
            (State(offset: 10), Request(offset: 11, complete: true), .mismatchingOffset(expected: 10)),
            (State(offset: 10, length: 20), Request(offset: 10, complete: true, bodyLength: 10), .append(length: 20)),
            (State(offset: 10), Request(offset: 10, complete: false, length: 30), .append(length: 30)),
            (
                State(offset: 10, length: 20), Request(offset: 10, complete: false, bodyLength: 11),
                .inconsistentLength("offset 10 plus 11 bytes does not fit Upload-Length 20")
            ),
            (
                State(offset: 10, length: 20), Request(offset: 10, complete: true, bodyLength: 9),
                .inconsistentLength("offset 10 plus 9 bytes does not fit Upload-Length 20")
            ),
            (
                State(offset: 10, length: 20), Request(offset: 10, complete: false, length: 21),
                .inconsistentLength("Upload-Length 21 differs from the earlier 20")
            ),
            (
                State(offset: 10), Request(offset: 10, complete: false, length: 9),
                .inconsistentLength("Upload-Length 9 is below the offset 10")
            ),
            (State(offset: 10), Request(offset: 10, complete: false, length: 1001), .tooLarge),
            (State(offset: 990), Request(offset: 990, complete: false, bodyLength: 11), .tooLarge),
            (State(offset: 5, isComplete: true, isAnswered: true), Request(offset: 5, complete: true), .completed),
            (State(offset: 5, isComplete: true, isAnswered: true), Request(offset: 0, complete: false), .completed),
            (State(offset: 5, isComplete: true), Request(offset: 5, complete: true), .finishAgain),
        ]
        for (state, request, expected) in cases {
            #expect(UploadRules.append(to: state, request, maxBytes: max) == expected, "\(state) \(request)")
        }
    }

    @Test func creationChecksLengthsBeforeAnythingIsWritten() {
        #expect(UploadRules.create(Request(complete: false), maxBytes: 100) == .append(length: nil))
        #expect(
            UploadRules.create(Request(complete: true, length: 10, bodyLength: 10), maxBytes: 100)
                == .append(length: 10))
        #expect(UploadRules.create(Request(complete: false, length: 101), maxBytes: 100) == .tooLarge)
        #expect(UploadRules.create(Request(complete: false, bodyLength: 101), maxBytes: 100) == .tooLarge)
        #expect(
            UploadRules.create(Request(complete: true, length: 10, bodyLength: 9), maxBytes: 100)
                == .inconsistentLength("offset 0 plus 9 bytes does not fit Upload-Length 10"))
    }

    @Test func aLastAppendMustEndAtTheLength() {
        #expect(UploadRules.afterBody(end: 10, length: 10, complete: true) == nil)
        #expect(UploadRules.afterBody(end: 10, length: nil, complete: true) == nil)
        #expect(UploadRules.afterBody(end: 9, length: 10, complete: false) == nil)
        #expect(
            UploadRules.afterBody(end: 9, length: 10, complete: true)
                == .inconsistentLength("the upload ends at 9 bytes but Upload-Length is 10"))
    }
}
