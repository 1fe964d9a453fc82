require ["fileinto"];
if header :contains "subject" "日本語" { fileinto "JpRaw"; }
