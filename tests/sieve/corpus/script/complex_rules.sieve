require ["fileinto", "imap4flags", "variables"];
if header :contains "list-id" "weekly" { addflag "$List"; fileinto "Lists/Weekly"; stop; }
if address :domain :is "from" ["example.org","example.net"] { set "f" "Friends"; }
else { set "f" "Other"; }
fileinto "${f}";
