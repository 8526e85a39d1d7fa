//! Query strings and `application/x-www-form-urlencoded` bodies, with RFC 6749 section 3.1's
//! rule that no parameter is repeated (an OAuth request with two `redirect_uri` is refused, not
//! read one way or the other).

/// The parameters of a query or a form, in order.
#[derive(Debug, Clone, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(text: &[u8]) -> Params {
        Params(url::form_urlencoded::parse(text).into_owned().collect())
    }

    /// The parameters, refusing any that is repeated (the error names it).
    pub fn unique(text: &[u8]) -> Result<Params, String> {
        let params = Params::parse(text);
        for (i, (name, _)) in params.0.iter().enumerate() {
            if params.0[..i].iter().any(|(n, _)| n == name) {
                return Err(format!("{name} is repeated"));
            }
        }
        Ok(params)
    }

    /// The single value of `name` (empty counts as absent); `Err` names a repeated parameter.
    pub fn one(&self, name: &str) -> Result<Option<&str>, String> {
        let mut values = self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let first = values.next();
        if values.next().is_some() {
            return Err(format!("{name} is repeated"));
        }
        Ok(first.filter(|v| !v.is_empty()))
    }

    /// The first non-empty value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }

    /// Every value of `name` (a checkbox list).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_parameters_are_detected() {
        let p = Params::parse(b"a=1&b=2&a=3&c=");
        assert!(p.one("a").is_err());
        assert_eq!(p.one("b"), Ok(Some("2")));
        assert_eq!(p.one("c"), Ok(None), "empty is absent");
        assert_eq!(p.all("a"), vec!["1", "3"]);
        assert_eq!(Params::unique(b"a=1&b=2&a=3").unwrap_err(), "a is repeated");
        assert_eq!(p.get("c"), None);
    }
}
