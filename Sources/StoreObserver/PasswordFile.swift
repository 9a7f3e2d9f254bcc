import Files
import Foundation
import Glibc
import Model

/// `--redis-password-file`: the Redis password, and what about the file an operator should fix.
/// A file others can read is still accepted (SONiC ships such files) but said so at start.
public struct PasswordFile: Sendable {
    public var password: String
    /// One line each, for WARNING.
    public var warnings: [String]

    /// More than any Redis password; the read is bounded by it.
    static let maxBytes = 4096

    /// Opens `path` (a symlink is followed, then the file itself is judged through its
    /// descriptor): a regular file or a pipe (`<(…)`); anything else (a folder, a device, a
    /// socket) is refused. Surrounding white space and newlines are trimmed.
    public static func read(_ path: String) throws(RedisError) -> PasswordFile {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { throw failure(path, "cannot open") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw failure(path, "fstat") }
        let kind = st.st_mode & S_IFMT
        guard kind == S_IFREG || kind == S_IFIFO else {
            throw RedisError(.configuration, "\(path): not a regular file or a pipe (mode \(octal(st.st_mode)))")
        }
        let bytes: Data
        do {
            bytes = try readToEnd(fd, limit: maxBytes)
        } catch {
            switch error {
            case .longerThanLimit:
                throw RedisError(.configuration, "\(path): longer than \(maxBytes) bytes; not a password file")
            case .read(let e):
                throw RedisError(.configuration, "\(path): read: \(String(cString: strerror(e)))")
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw RedisError(.configuration, "\(path): not UTF-8")
        }
        var warnings: [String] = []
        if kind == S_IFREG && st.st_mode & (S_IROTH | S_IWOTH) != 0 {
            let what = st.st_mode & S_IWOTH != 0 ? "writable" : "readable"
            warnings.append(
                "Redis password file \(path) is mode \(octal(st.st_mode & 0o7777)): \(what) by every user; "
                    + "make it 0600 (or 0640 for a group)"
            )
        }
        return PasswordFile(password: trimmed(text), warnings: warnings)
    }

    static func trimmed(_ s: String) -> String {
        let isSpace = { (c: Character) in c.isWhitespace || c.isNewline }
        return String(s.drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }

    static func octal(_ mode: mode_t) -> String { "0" + String(mode, radix: 8) }

    static func failure(_ path: String, _ operation: String) -> RedisError {
        RedisError(.configuration, "\(path): \(operation): \(String(cString: strerror(errno)))")
    }
}
