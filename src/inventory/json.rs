//! JSON as users have it on disk: one document, several documents back to back (`gh api
//! --paginate` prints one array per page: `[…][…]`), or an array of pages (`--slurp`:
//! `[[…],[…]]`). Pages are joined into one listing; `has_more` / `IsTruncated` on a page say
//! that the listing is incomplete.

use serde_json::Value;

/// List keys under which exports put their items.
const LIST_KEYS: &[&str] = &["data", "keys", "records", "AccessKeyMetadata"];

/// Parse the text into one value, joining pages; the number of pages comes with it.
/// The error says why, never quoting the text.
pub fn documents(text: &str) -> Result<(Value, usize), String> {
    let mut docs = Vec::new();
    let stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    for d in stream {
        match d {
            Ok(v) => docs.push(v),
            Err(e) => {
                return Err(format!(
                    "invalid JSON at line {} column {} ({})",
                    e.line(),
                    e.column(),
                    match e.classify() {
                        serde_json::error::Category::Eof => "it ends too early",
                        serde_json::error::Category::Syntax => "a syntax error",
                        _ => "not readable",
                    }
                ))
            }
        }
    }
    match docs.len() {
        0 => Err("empty: no JSON document".into()),
        1 => {
            let v = docs.pop().unwrap_or(Value::Null);
            // `--slurp`: an array whose every element is an array (a page).
            if let Value::Array(pages) = &v {
                if !pages.is_empty() && pages.iter().all(Value::is_array) {
                    let n = pages.len();
                    let Value::Array(pages) = v else {
                        unreachable!()
                    };
                    let joined: Vec<Value> = pages
                        .into_iter()
                        .flat_map(|p| match p {
                            Value::Array(a) => a,
                            _ => Vec::new(),
                        })
                        .collect();
                    return Ok((Value::Array(joined), n));
                }
            }
            Ok((v, 1))
        }
        n if docs.iter().all(Value::is_array) => {
            let joined: Vec<Value> = docs
                .into_iter()
                .flat_map(|p| match p {
                    Value::Array(a) => a,
                    _ => Vec::new(),
                })
                .collect();
            Ok((Value::Array(joined), n))
        }
        n => {
            // Pages of one wrapped listing (`{"data":[…],"has_more":true}{"data":[…]}`).
            let key = LIST_KEYS
                .iter()
                .find(|k| docs.iter().all(|d| d.get(**k).is_some_and(Value::is_array)))
                .ok_or_else(|| format!("{n} JSON documents that are not pages of one listing"))?;
            let mut it = docs.into_iter();
            let mut first = it.next().unwrap_or(Value::Null);
            let mut last_more = None;
            for page in it {
                if let (Some(Value::Array(dst)), Value::Object(mut src)) =
                    (first.get_mut(*key), page)
                {
                    if let Some(Value::Array(items)) = src.remove(*key) {
                        dst.extend(items);
                    }
                    last_more = src.remove("has_more").or(src.remove("IsTruncated"));
                }
            }
            if let (Some(m), Value::Object(o)) = (last_more, &mut first) {
                if o.contains_key("has_more") {
                    o.insert("has_more".into(), m);
                } else {
                    o.insert("IsTruncated".into(), m);
                }
            }
            Ok((first, n))
        }
    }
}

/// A warning when the export says it holds one page of a longer listing.
pub fn warn_incomplete(v: &Value, file: &str, warnings: &mut Vec<String>) {
    for (flag, how) in [
        ("has_more", "fetch every page (the `after` parameter)"),
        (
            "IsTruncated",
            "fetch every page (`--starting-token` / Marker)",
        ),
    ] {
        if v.get(flag).and_then(Value::as_bool) == Some(true) {
            warnings.push(format!(
                "{file}: `{flag}` is true: the file holds one page only and the inventory is \
                 incomplete; {how}"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_back_to_back_slurped_and_wrapped() {
        let (v, n) = documents("[{\"a\":1}]\n[{\"a\":2},{\"a\":3}]\n").unwrap();
        assert_eq!((v.as_array().unwrap().len(), n), (3, 2));
        let (v, n) = documents("[[{\"a\":1}],[{\"a\":2}]]").unwrap();
        assert_eq!((v.as_array().unwrap().len(), n), (2, 2));
        let (v, n) =
            documents("{\"data\":[1],\"has_more\":true}{\"data\":[2],\"has_more\":false}").unwrap();
        assert_eq!((v["data"].as_array().unwrap().len(), n), (2, 2));
        assert_eq!(v["has_more"], false);
        let e = documents("[{\"a\":1}").unwrap_err();
        assert!(e.contains("line 1"), "{e}");
        assert!(documents("{\"a\":1}{\"b\":2}").is_err());
        // A plain array of records is not mistaken for pages.
        let (v, n) = documents("[{\"a\":1},{\"a\":2}]").unwrap();
        assert_eq!((v.as_array().unwrap().len(), n), (2, 1));
    }
}
