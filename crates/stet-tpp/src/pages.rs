//! Reading the bank's HTML forms, to drive the authorization flow without a browser. The bank's
//! pages are plain forms (no JavaScript), so the form, its fields and its buttons are all there is.

/// A form of a page: where it posts and the fields it would send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    pub action: String,
    pub method: String,
    /// Hidden and pre-filled fields.
    pub fields: Vec<(String, String)>,
    /// Names of the text fields the user fills in.
    pub inputs: Vec<String>,
    /// Checkboxes: (name, value).
    pub checkboxes: Vec<(String, String)>,
    /// Radio buttons: (name, value), in the page's order.
    pub radios: Vec<(String, String)>,
}

/// The first `<form>` of a page.
pub fn first_form(html: &str) -> Option<Form> {
    let start = html.find("<form")?;
    let end = html[start..].find("</form>").map(|e| start + e).unwrap_or(html.len());
    let body = &html[start..end];
    let form_tag = tag_attributes(&body[..body.find('>')?]);
    let mut form = Form {
        action: attr(&form_tag, "action").unwrap_or_default(),
        method: attr(&form_tag, "method").unwrap_or_else(|| "get".into()).to_ascii_lowercase(),
        fields: Vec::new(),
        inputs: Vec::new(),
        checkboxes: Vec::new(),
        radios: Vec::new(),
    };
    let mut rest = body;
    while let Some(i) = rest.find("<input") {
        let tag_end = rest[i..].find('>').map(|e| i + e).unwrap_or(rest.len());
        let attrs = tag_attributes(&rest[i + 6..tag_end]);
        let name = attr(&attrs, "name").unwrap_or_default();
        let value = attr(&attrs, "value").unwrap_or_default();
        match attr(&attrs, "type").unwrap_or_else(|| "text".into()).as_str() {
            "hidden" => form.fields.push((name, value)),
            "checkbox" => form.checkboxes.push((name, value)),
            "radio" => form.radios.push((name, value)),
            "submit" | "button" => {}
            _ => form.inputs.push(name),
        }
        rest = &rest[tag_end..];
    }
    Some(form)
}

/// `name="value"` pairs of a tag, entities decoded.
fn tag_attributes(tag: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = tag;
    while let Some(eq) = rest.find("=\"") {
        let name = rest[..eq].rsplit(|c: char| c.is_whitespace()).next().unwrap_or("").to_ascii_lowercase();
        let value_start = eq + 2;
        let Some(len) = rest[value_start..].find('"') else { break };
        out.push((name, decode(&rest[value_start..value_start + len])));
        rest = &rest[value_start + len + 1..];
    }
    out
}

fn attr(attrs: &[(String, String)], name: &str) -> Option<String> {
    attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
}

/// The entities an HTML escaper produces.
fn decode(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_inputs_and_checkboxes() {
        let html = r#"<p>x</p><form method="post" action="/stet/psd2/oauth/authorize">
            <input type="hidden" name="csrf" value="a&amp;b">
            <label for="otp">Code</label><input type="password" id="otp" name="otp" required>
            <input type="checkbox" id="account-1" name="account" value="175150009204004305180">
            <button type="submit" name="action" value="continue">OK</button></form>"#;
        let form = first_form(html).unwrap();
        assert_eq!(form.action, "/stet/psd2/oauth/authorize");
        assert_eq!(form.method, "post");
        assert_eq!(form.fields, vec![("csrf".to_owned(), "a&b".to_owned())]);
        assert_eq!(form.inputs, vec!["otp".to_owned()]);
        assert_eq!(form.checkboxes, vec![("account".to_owned(), "175150009204004305180".to_owned())]);
        assert!(first_form("<p>no form</p>").is_none());
    }
}
