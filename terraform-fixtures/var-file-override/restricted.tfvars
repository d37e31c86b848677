reader      = "arn:aws:iam::123456789012:role/pacs-viewer"
environment = "staging"
