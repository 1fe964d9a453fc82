require ["fileinto"];
if address :localpart :is "from" ["tanaka","yamada","sato"] { fileinto "JpAddr"; }
