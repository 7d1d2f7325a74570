import ArgumentParser
import Foundation
import HTTPAPI

/// `assetdedup routes`: the API's route table, what the OpenAPI coverage test compares with
/// `www/api/openapi.json`, and what an operator reads to see every endpoint in one place.
struct RoutesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "routes", abstract: "Print every API route: method, path pattern (the metrics label) and access.")
    @Flag(help: "Print JSON: [{method, path, access}] with paths under the prefix.") var json = false

    func run() throws {
        let table = API.routes
        if json {
            let rows = table.routes.map {
                ["method": $0.method, "path": $0.pattern.description, "access": $0.access.requirement]
            }
            let data = try JSONSerialization.data(
                withJSONObject: ["prefix": table.prefix, "routes": rows] as [String: Any], options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            for route in table.routes {
                print(
                    "\(route.method.padding(toLength: 7, withPad: " ", startingAt: 0)) \(table.prefix)\(route.pattern)  \(route.access.requirement)"
                )
            }
        }
    }
}
