//! `render::reasons`: every reason code has the words the SARIF rule and the
//! help show.

use crate::support::audit_fixtures::ALL_CODES;
use actlog_cmk::render::reasons::{help, title};

#[test]
fn every_code_is_explained() {
    for code in ALL_CODES {
        assert!(!title(code).is_empty());
        assert!(
            !title(code).ends_with('.'),
            "{code:?}: a title is no sentence"
        );
        assert!(help(code).ends_with('.'), "{code:?}: help is sentences");
        assert!(!help(code).contains("  "), "{code:?}: line continuation");
    }
}
