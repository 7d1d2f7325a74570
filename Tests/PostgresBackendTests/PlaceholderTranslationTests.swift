import Testing

@testable import PostgresStore

@Suite("Placeholder translation (? and ?N to $N)")
struct PlaceholderTranslationTests {
    func translate(_ sql: String) -> String { PlaceholderTranslation(sql).text }

    @Test("bare ? numbers from 1; ?N is N and reusable; a bare ? after ?N is the largest plus one")
    func numbering() {
        #expect(translate("SELECT ?, ?, ?") == "SELECT $1, $2, $3")
        #expect(translate("WHERE a = ?1 OR b = ?1") == "WHERE a = $1 OR b = $1")
        #expect(translate("VALUES (?2, ?1, ?)") == "VALUES ($2, $1, $3)")
        #expect(translate("x = ?10") == "x = $10")
        #expect(PlaceholderTranslation("VALUES (?2, ?1, ?)").parameterCount == 3)
        #expect(PlaceholderTranslation("WHERE a = ?1 OR b = ?1").parameterCount == 1)
        #expect(PlaceholderTranslation("SELECT 1").parameterCount == 0)
    }

    @Test("quoted text, identifiers and comments keep their ?")
    func quoted() {
        #expect(translate("SELECT '?', ? FROM t") == "SELECT '?', $1 FROM t")
        #expect(translate("SELECT 'it''s ?', ?") == "SELECT 'it''s ?', $1")
        #expect(translate(#"SELECT "a?b", ?"#) == #"SELECT "a?b", $1"#)
        #expect(translate(#"SELECT "a""?", ?"#) == #"SELECT "a""?", $1"#)
        #expect(translate("SELECT ? -- why?\n, ?") == "SELECT $1 -- why?\n, $2")
        #expect(translate("SELECT /* ? /* ? */ ? */ ?") == "SELECT /* ? /* ? */ ? */ $1")
        #expect(translate(#"SELECT E'\'?', ?"#) == #"SELECT E'\'?', $1"#)
        #expect(translate("SELECT $$ ? $$, $q$ ?$ $q$, ?") == "SELECT $$ ? $$, $q$ ?$ $q$, $1")
        #expect(translate("SELECT 'unterminated ?") == "SELECT 'unterminated ?")
    }

    @Test("the dialect's now (double quotes inside a literal) and non-ASCII text pass through")
    func passThrough() {
        let now = PostgresConnection.dialect.now
        #expect(translate("SELECT \(now), ?") == "SELECT \(now), $1")
        #expect(translate("SELECT 'é?ü', ?, \"名前?\"") == "SELECT 'é?ü', $1, \"名前?\"")
        #expect(translate("SELECT $1") == "SELECT $1")
    }
}

@Suite("Transaction retry backoff")
struct TransactionRetryPolicyTests {
    @Test("doubles from the base up to the cap, jittered between half and all of it")
    func delays() {
        let policy = TransactionRetryPolicy(attempts: 10, baseDelay: .milliseconds(2), maxDelay: .milliseconds(100))
        #expect(
            (1...8).map { policy.delay(afterAttempt: $0, jitter: 1) }
                == [2, 4, 8, 16, 32, 64, 100, 100].map { .milliseconds($0) })
        #expect(policy.delay(afterAttempt: 1, jitter: 0) == .milliseconds(1))
        #expect(policy.delay(afterAttempt: 3, jitter: 0.5) == .milliseconds(6))
    }
}
