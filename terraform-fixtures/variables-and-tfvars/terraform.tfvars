reader = "*"
