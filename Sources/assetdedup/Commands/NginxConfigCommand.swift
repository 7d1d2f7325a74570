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
    @Option(help: "The app's FastCGI address: unix:PATH or 127.0.0.1:PORT.") var fastcgi: String =
        "unix:var/assetdedup.sock"
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
        guard fastcgi.hasPrefix("unix:") || fastcgi.hasPrefix("127.") else {
            throw ValidationError("--fastcgi must be unix:PATH or 127.0.0.1:PORT, got '\(fastcgi)'")
        }
    }

    func run() throws {
        try reportingErrors {
            let text: String
            do { text = try String(contentsOfFile: template, encoding: .utf8) } catch {
                throw CLIError("cannot read template \(template): \(error.localizedDescription)")
            }
            let prefix = Self.absolute(prefix)
            var upstream = fastcgi
            if upstream.hasPrefix("unix:") { upstream = "unix:" + Self.absolute(String(upstream.dropFirst(5))) }
            var context: [String: Any] = [
                "listen": listen, "fastcgi": upstream, "www": Self.absolute(www), "prefix": prefix,
                "maxBodySize": maxBodySize, "bodyTemp": bodyTemp.map(Self.absolute) ?? "\(prefix)/client_body",
                "workers": workers, "accessLog": accessLog ?? "\(prefix)/access.log",
            ]
            // Only as root: an empty string would still open the template's section (`user ;`,
            // which nginx refuses); anyone else's workers stay that user anyway.
            if geteuid() == 0 { context["userDirective"] = "root root" }
            print(try MustacheTemplate(string: text).render(context), terminator: "")
        }
    }

    /// nginx resolves relative paths against its prefix, so everything is made absolute.
    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }
}
