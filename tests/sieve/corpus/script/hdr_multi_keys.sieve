require ["fileinto"];
if header :contains "subject" ["zzz", "prize", "report"] { fileinto "K"; }
