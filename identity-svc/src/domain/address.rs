//! Rules for a company's addresses (actual, legal, shipping): what a valid list is.

/// At most this many addresses per account.
pub const MAX_ADDRESSES: usize = 20;

/// What an address is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressType {
    Actual,
    Legal,
    Shipping,
}

impl AddressType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Actual => "actual",
            Self::Legal => "legal",
            Self::Shipping => "shipping",
        }
    }

    pub fn from_stored(stored: &str) -> Self {
        match stored {
            "legal" => Self::Legal,
            "shipping" => Self::Shipping,
            _ => Self::Actual,
        }
    }
}

/// An address as given or stored; `id` is empty for a new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub id: String,
    /// `None` when the request left the type unset.
    pub r#type: Option<AddressType>,
    pub primary: bool,
    pub country: String,
    pub region: String,
    pub city: String,
    pub address_line: String,
    pub postal_code: String,
}

/// Every problem of an address list, as (index or `None` for the list, field, problem);
/// empty when the list is valid.
pub fn problems(addresses: &[Address]) -> Vec<(Option<usize>, &'static str, String)> {
    let mut found = Vec::new();
    if addresses.len() > MAX_ADDRESSES {
        found.push((None, "", format!("at most {MAX_ADDRESSES} addresses, got {}", addresses.len())));
    }
    for (index, address) in addresses.iter().enumerate() {
        if address.r#type.is_none() {
            found.push((Some(index), "type", "is required: actual, legal or shipping".into()));
        }
        if [&address.country, &address.city, &address.address_line].iter().all(|part| part.trim().is_empty()) {
            found.push((Some(index), "address_line", "one of country, city and address_line is required".into()));
        }
        for (field, value, limit) in [
            ("country", &address.country, 100),
            ("region", &address.region, 100),
            ("city", &address.city, 100),
            ("address_line", &address.address_line, 500),
            ("postal_code", &address.postal_code, 20),
        ] {
            if value.chars().count() > limit {
                found.push((Some(index), field, format!("must be at most {limit} characters")));
            }
        }
        let earlier_primary = addresses[..index].iter().any(|other| other.primary && other.r#type == address.r#type);
        if address.primary && address.r#type.is_some() && earlier_primary {
            found.push((Some(index), "primary", "another address of this type is already primary".into()));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(kind: Option<AddressType>, primary: bool, city: &str) -> Address {
        Address {
            id: String::new(),
            r#type: kind,
            primary,
            country: String::new(),
            region: String::new(),
            city: city.into(),
            address_line: String::new(),
            postal_code: String::new(),
        }
    }

    #[test]
    fn one_primary_per_type_a_type_and_a_place_are_required() {
        let valid =
            [address(Some(AddressType::Legal), true, "Boston"), address(Some(AddressType::Actual), true, "Toronto")];
        assert!(problems(&valid).is_empty());
        let invalid = [
            address(Some(AddressType::Legal), true, "Boston"),
            address(Some(AddressType::Legal), true, "Toronto"),
            address(None, false, ""),
        ];
        let fields: Vec<_> = problems(&invalid).into_iter().map(|(index, field, _)| (index, field)).collect();
        assert_eq!(fields, [(Some(1), "primary"), (Some(2), "type"), (Some(2), "address_line")]);
        let too_many = vec![address(Some(AddressType::Shipping), false, "Boston"); MAX_ADDRESSES + 1];
        assert_eq!(problems(&too_many).len(), 1);
    }
}
