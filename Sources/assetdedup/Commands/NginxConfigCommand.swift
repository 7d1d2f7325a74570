import ArgumentParser
import Foundation
import Mustache

/// `assetdedup nginx-config`: prints a complete nginx.conf for an unprivileged nginx.
struct NginxConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nginx-config",
        abstract:
            "Print an nginx.conf that serves www/ and proxies /api/ to the app; run it with nginx -p PREFIX -c FILE.")
    @Option(help: "Address nginx listens on (loopback only).") var listen: String = "127.0.0.1:8080"
    @Option(
        help: ArgumentHelp(
            "A node's FastCGI address: unix:PATH or 127.0.0.1:PORT. Repeat it for several nodes on one database.",
            discussion:
                "Every address goes into one upstream; with several, nginx retries a request on the next node when one cannot be reached, times out, or answers 503 (docs/DESIGN.md, Several nodes)."
        )) var fastcgi: [String] = ["unix:var/assetdedup.sock"]
    @Option(help: "Folder served at / (holds app/ and reports/).") var www: String = "www"
    @Option(help: "Folder for nginx's pid, logs and temp files.") var prefix: String = "var/nginx"
    @Option(help: "nginx client_max_body_size.") var maxBodySize: String = "8g"
    @Option(help: "nginx worker processes.") var workers: Int = 1
    @Option(help: "Access log path, or 'off'.") var accessLog: String?
    @Option(
        help:
            "Folder where nginx writes request bodies (default PREFIX/client_body); give the same folder to `serve --request-body-dir`."
    ) var bodyTemp: String?
    @Option(help: "The template to render.") var template: String = "templates/nginx.conf.mustache"

    func validate() throws {
        guard listen.hasPrefix("127.") || listen.hasPrefix("localhost:") || listen.hasPrefix("[::1]:") else {
            throw ValidationError("--listen must be a loopback address (127.x.x.x:PORT), got '\(listen)'")
        }
        for address in fastcgi {
            guard address.hasPrefix("unix:") || address.hasPrefix("127.") else {
                throw ValidationError("--fastcgi must be unix:PATH or 127.0.0.1:PORT, got '\(address)'")
            }
        }
        let nodes = fastcgi.map(Self.node)
        if let repeated = nodes.first(where: { node in nodes.filter { $0 == node }.count > 1 }) {
            throw ValidationError("--fastcgi '\(repeated)' is given twice")
        }
    }

    func run() throws {
        let text: String
        do { text = try String(contentsOfFile: template, encoding: .utf8) } catch {
            throw CLIError("cannot read template \(template): \(error.localizedDescription)")
        }
        let prefix = Self.absolute(prefix)
        var context: [String: Any] = [
            "listen": listen, "servers": Self.upstreamServers(fastcgi.map(Self.node)), "several": fastcgi.count > 1,
            "www": Self.absolute(www), "prefix": prefix,
            "maxBodySize": maxBodySize, "bodyTemp": bodyTemp.map(Self.absolute) ?? "\(prefix)/client_body",
            "workers": workers, "accessLog": accessLog ?? "\(prefix)/access.log",
        ]
        // Only as root: an empty string would still open the template's section (`user ;`,
        // which nginx refuses); anyone else's workers stay that user anyway.
        if geteuid() == 0 { context["userDirective"] = "root root" }
        print(try MustacheTemplate(string: text).render(context), terminator: "")
    }

    /// How long a node that failed `maxFails` times is left out of the upstream (nginx `fail_timeout`).
    static let failTimeoutSeconds = 10
    /// Failures within `failTimeoutSeconds` that take a node out (nginx `max_fails`): more than one, so a
    /// single 503 `busy` (the database's, shared by every node) does not take a healthy node out.
    static let maxFails = 3

    /// The upstream's `server` lines' arguments. One node is the plain address (nginx never marks a sole
    /// server down); several get `max_fails`/`fail_timeout` (docs/DESIGN.md, Several nodes).
    static func upstreamServers(_ nodes: [String]) -> [[String: String]] {
        let failover = nodes.count > 1 ? " max_fails=\(maxFails) fail_timeout=\(failTimeoutSeconds)s" : ""
        return nodes.map { ["server": $0 + failover] }
    }

    /// A `--fastcgi` address as nginx wants it: a unix socket's path made absolute.
    static func node(_ address: String) -> String {
        address.hasPrefix("unix:") ? "unix:" + absolute(String(address.dropFirst(5))) : address
    }

    /// nginx resolves relative paths against its prefix, so everything is made absolute.
    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }
}
