/// Kubernetes-style `$(VAR)` expansion in commands and args: `$(NAME)` becomes the variable's value when it is
/// defined, `$$` escapes a dollar, and unknown references stay as written.
public enum EnvExpansion {
    public static func expand(_ text: String, _ env: [String: String]) -> String {
        var out = ""
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            let next = text.index(after: i)
            if c == "$", next < text.endIndex {
                if text[next] == "$" {
                    out.append("$")
                    i = text.index(after: next)
                    continue
                }
                if text[next] == "(", let close = text[next...].firstIndex(of: ")") {
                    let name = String(text[text.index(after: next)..<close])
                    if let value = env[name] {
                        out += value
                        i = text.index(after: close)
                        continue
                    }
                }
            }
            out.append(c)
            i = next
        }
        return out
    }
}
