if address :domain :is "from" "lottery.example" { redirect "abuse@example.com"; }
