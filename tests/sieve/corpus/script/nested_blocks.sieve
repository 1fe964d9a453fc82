require ["fileinto"];
if exists "from" { if exists "to" { if header :contains "subject" "e" { fileinto "Deep"; } } }
