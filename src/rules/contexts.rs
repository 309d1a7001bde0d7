//! File-format contexts: a variable name and a value in, the text a person would write to
//! set that variable in a given kind of file out (a line of Python, a YAML key, a notebook
//! cell's JSON source line...). `rules check` places every rule example in each of them, and
//! the labelled evaluation uses them to place generated keys.
//!
//! `Context::encode` says how a piece of the value (the secret) reads once wrapped: the same
//! bytes in most contexts, escaped where the format escapes (`\n` in JSON, `&amp;` in XML),
//! or `None` where the format cannot keep it in one piece (a multi-line secret in a notebook,
//! whose source is one JSON string per line).

/// One file format in which credentials get written.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    /// Short stable name (`python`, `yaml`, `notebook`...), used in rule files' `skip_contexts`.
    pub name: &'static str,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Python,
    JavaScript,
    Go,
    Java,
    Php,
    Ruby,
    Shell,
    Yaml,
    Json,
    Toml,
    Ini,
    Xml,
    XmlAttribute,
    Dotenv,
    Makefile,
    Dockerfile,
    Notebook,
    Log,
}

const ALL: &[Context] = &[
    Context::new("python", Kind::Python),
    Context::new("javascript", Kind::JavaScript),
    Context::new("go", Kind::Go),
    Context::new("java", Kind::Java),
    Context::new("php", Kind::Php),
    Context::new("ruby", Kind::Ruby),
    Context::new("shell", Kind::Shell),
    Context::new("yaml", Kind::Yaml),
    Context::new("json", Kind::Json),
    Context::new("toml", Kind::Toml),
    Context::new("ini", Kind::Ini),
    Context::new("xml", Kind::Xml),
    Context::new("xml-attribute", Kind::XmlAttribute),
    Context::new("dotenv", Kind::Dotenv),
    Context::new("makefile", Kind::Makefile),
    Context::new("dockerfile", Kind::Dockerfile),
    Context::new("notebook", Kind::Notebook),
    Context::new("log", Kind::Log),
];

/// Every context, in a stable order.
pub fn contexts() -> &'static [Context] {
    ALL
}

/// The context named `name`, if there is one.
pub fn context(name: &str) -> Option<&'static Context> {
    ALL.iter().find(|c| c.name == name)
}

/// How a string literal's body is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quote {
    /// `"…"` with C-style escapes: `\\`, `\"`, `\n`, `\t`.
    Double,
    /// `'…'` with `\\` and `\'` (newlines as `\n`).
    Single,
    /// Bytes as they are (raw strings, heredocs, block scalars, unquoted values).
    Raw,
    /// `'…'` with only `\\` and `\'` escaped and newlines kept (PHP, Ruby).
    SingleKeepLines,
    /// Shell single quotes: `'` becomes `'\''`, nothing else changes.
    ShellSingle,
    /// YAML single quotes: `'` doubled.
    YamlSingle,
    /// Python/Java triple quotes and JS/Go raw strings: only `\` (and `` ` `` for JS) escaped.
    Triple,
    Backtick,
    /// XML text and attribute values.
    XmlText,
    XmlAttr,
    /// Every line after the first indented (YAML block scalar, INI continuation).
    Indent(usize),
}

fn escape(q: Quote, s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match (q, c) {
            (Quote::Double, '"') => out.push_str("\\\""),
            (Quote::Double | Quote::Single, '\n') => out.push_str("\\n"),
            (Quote::Double | Quote::Single, '\r') => out.push_str("\\r"),
            (Quote::Double | Quote::Single, '\t') => out.push_str("\\t"),
            (Quote::Single | Quote::SingleKeepLines, '\'') => out.push_str("\\'"),
            (Quote::ShellSingle, '\'') => out.push_str("'\\''"),
            (Quote::YamlSingle, '\'') => out.push_str("''"),
            (Quote::Backtick, '`') => out.push_str("\\`"),
            (Quote::XmlText | Quote::XmlAttr, '&') => out.push_str("&amp;"),
            (Quote::XmlText | Quote::XmlAttr, '<') => out.push_str("&lt;"),
            (Quote::XmlText | Quote::XmlAttr, '>') => out.push_str("&gt;"),
            (Quote::XmlAttr, '"') => out.push_str("&quot;"),
            (Quote::Indent(n), '\n') => {
                out.push('\n');
                out.push_str(&" ".repeat(n));
            }
            _ => out.push(c),
        }
    }
    out
}

/// `"…"` unless the value holds `"` but no `'`, then `'…'`: what a person would type.
fn c_like(v: &str) -> Quote {
    if v.contains('"') && !v.contains('\'') {
        Quote::Single
    } else {
        Quote::Double
    }
}

fn wrap_in(q: Quote, body: &str) -> String {
    match q {
        Quote::Double => format!("\"{body}\""),
        Quote::Single | Quote::SingleKeepLines | Quote::ShellSingle | Quote::YamlSingle => {
            format!("'{body}'")
        }
        _ => body.to_string(),
    }
}

/// Can `v` stand unquoted as a YAML plain scalar, a .env or INI value?
fn plain(v: &str) -> bool {
    !v.is_empty()
        && !v.contains(": ")
        && !v.contains(" #")
        && !v.contains(['\'', '"', '\n', '\\', '`'])
        && !v.starts_with(|c: char| "!&*{}[]|>%@,?:-#".contains(c) || c.is_whitespace())
        && !v.ends_with(|c: char| c.is_whitespace() || c == ':')
}

impl Context {
    const fn new(name: &'static str, kind: Kind) -> Context {
        Context { name, kind }
    }

    /// The quoting this context uses for `value`.
    fn quote(&self, value: &str) -> Quote {
        let ml = value.contains('\n');
        match self.kind {
            Kind::Python | Kind::Notebook if ml => Quote::Triple,
            Kind::Ruby if ml => Quote::SingleKeepLines,
            Kind::Python | Kind::Notebook | Kind::Ruby => c_like(value),
            Kind::JavaScript if ml => Quote::Backtick,
            Kind::JavaScript => c_like(value),
            Kind::Go if ml || (value.contains('"') && !value.contains('`')) => Quote::Raw,
            Kind::Go => Quote::Double,
            Kind::Java if ml => Quote::Triple,
            Kind::Java | Kind::Json | Kind::Dockerfile => Quote::Double,
            Kind::Php => Quote::SingleKeepLines,
            Kind::Shell => Quote::ShellSingle,
            Kind::Yaml if ml => Quote::Indent(2),
            Kind::Yaml | Kind::Dotenv if plain(value) => Quote::Raw,
            Kind::Yaml => Quote::YamlSingle,
            Kind::Toml if ml => Quote::Raw,
            Kind::Toml if value.contains(['"', '\\']) && !value.contains('\'') => Quote::Raw,
            Kind::Toml => Quote::Double,
            Kind::Ini if ml => Quote::Indent(4),
            Kind::Ini | Kind::Makefile | Kind::Log => Quote::Raw,
            Kind::Xml => Quote::XmlText,
            Kind::XmlAttribute => Quote::XmlAttr,
            Kind::Dotenv if !value.contains('\'') && !ml => Quote::ShellSingle,
            Kind::Dotenv => Quote::Double,
        }
    }

    /// The text that sets variable `var` to `value` in this kind of file, newline-terminated.
    pub fn wrap(&self, var: &str, value: &str) -> String {
        let q = self.quote(value);
        let body = escape(q, value);
        let lit = wrap_in(q, &body);
        let ml = value.contains('\n');
        match self.kind {
            Kind::Python if ml => format!("{var} = \"\"\"{body}\"\"\"\n"),
            Kind::Python => format!("{var} = {lit}\n"),
            Kind::JavaScript if ml => format!("const {var} = `{body}`;\n"),
            Kind::JavaScript => format!("const {var} = {lit};\n"),
            Kind::Go if q == Quote::Raw => format!("\t{var} := `{body}`\n"),
            Kind::Go => format!("\t{var} := \"{body}\"\n"),
            Kind::Java if ml => format!("    String {var} = \"\"\"\n{body}\"\"\";\n"),
            Kind::Java => format!("    private static final String {var} = \"{body}\";\n"),
            Kind::Php => format!("    '{var}' => {lit},\n"),
            Kind::Ruby => format!("{var} = {lit}.freeze\n"),
            Kind::Shell => format!("export {var}={lit}\n"),
            Kind::Yaml if ml => format!("{var}: |\n  {body}\n"),
            Kind::Yaml => format!("{var}: {lit}\n"),
            Kind::Json => format!("{{\n  \"{var}\": \"{body}\"\n}}\n"),
            Kind::Toml if ml => format!("{var} = '''\n{body}'''\n"),
            Kind::Toml if q == Quote::Raw => format!("{var} = '{body}'\n"),
            Kind::Toml => format!("{var} = \"{body}\"\n"),
            Kind::Ini if ml => format!("[default]\n{var} =\n    {body}\n"),
            Kind::Ini => format!("[default]\n{var} = {body}\n"),
            Kind::Xml => format!("<configuration>\n  <{var}>{body}</{var}>\n</configuration>\n"),
            Kind::XmlAttribute => format!("  <add key=\"{var}\" value=\"{body}\" />\n"),
            Kind::Dotenv if q == Quote::Double => format!("{var}=\"{body}\"\n"),
            Kind::Dotenv => format!("{var}={lit}\n"),
            Kind::Makefile if ml => format!("define {var}\n{body}\nendef\n"),
            Kind::Makefile => format!("{var} ?= {body}\n"),
            Kind::Dockerfile => format!("ENV {var}=\"{body}\"\n"),
            Kind::Notebook => {
                let code = context("python").expect("python context").wrap(var, value);
                let lines: Vec<String> = code
                    .split_inclusive('\n')
                    .map(|l| format!("    \"{}\"", escape(Quote::Double, l)))
                    .collect();
                format!(
                    "{{\n  \"cell_type\": \"code\",\n  \"source\": [\n{}\n  ]\n}}\n",
                    lines.join(",\n")
                )
            }
            Kind::Log => format!("2026-03-14T09:26:53.589Z INFO  [config] loaded {var}={body}\n"),
        }
    }

    /// How `part`, a piece of `value`, reads in `wrap(_, value)`; `None` when this context
    /// splits it (a multi-line part in a notebook's one-string-per-line source).
    pub fn encode(&self, value: &str, part: &str) -> Option<String> {
        let q = self.quote(value);
        let once = escape(q, part);
        if self.kind == Kind::Notebook {
            if part.contains('\n') {
                return None;
            }
            return Some(escape(Quote::Double, &once));
        }
        Some(once)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_at_least_eight() {
        let mut names: Vec<&str> = contexts().iter().map(|c| c.name).collect();
        assert!(names.len() >= 8);
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), contexts().len());
    }

    #[test]
    fn encoded_part_appears_in_the_wrapped_text() {
        let values = [
            ("tk_plain", "tk_plain"),
            ("a \"quoted\" tk_x value", "tk_x"),
            ("it's tk_x", "tk_x"),
            ("Server=db;Password=p&w<1>", "p&w<1>"),
            ("line one\nkey tk_y\nline three", "key tk_y\nline three"),
            ("back\\slash tk_z", "back\\slash"),
            ("$2b$12$abc", "$2b$12$abc"),
        ];
        for ctx in contexts() {
            for (value, part) in values {
                let text = ctx.wrap("API_TOKEN", value);
                assert!(text.contains("API_TOKEN"), "{}: {text}", ctx.name);
                match ctx.encode(value, part) {
                    Some(enc) => assert!(text.contains(&enc), "{}: {enc:?} in {text:?}", ctx.name),
                    None => assert!(ctx.name == "notebook" && part.contains('\n')),
                }
            }
        }
    }

    #[test]
    fn formats_look_like_their_files() {
        let w = |n: &str, v: &str| context(n).unwrap().wrap("KEY", v);
        assert_eq!(w("python", "a\"b"), "KEY = 'a\"b'\n");
        assert_eq!(w("shell", "it's"), "export KEY='it'\\''s'\n");
        assert_eq!(w("yaml", "a: b"), "KEY: 'a: b'\n");
        assert_eq!(w("yaml", "plain"), "KEY: plain\n");
        assert_eq!(w("json", "a\nb"), "{\n  \"KEY\": \"a\\nb\"\n}\n");
        assert_eq!(
            w("xml-attribute", "a&b"),
            "  <add key=\"KEY\" value=\"a&amp;b\" />\n"
        );
        let nb = w("notebook", "x\"y");
        assert!(nb.contains(r#""KEY = 'x\"y'\n""#), "{nb}");
        let parsed: serde_json::Value = serde_json::from_str(&nb).unwrap();
        assert_eq!(parsed["source"][0], "KEY = 'x\"y'\n");
        let nb = w("notebook", "a\nb");
        let parsed: serde_json::Value = serde_json::from_str(&nb).unwrap();
        assert_eq!(parsed["source"].as_array().unwrap().len(), 2);
    }
}
