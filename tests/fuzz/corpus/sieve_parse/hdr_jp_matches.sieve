require ["fileinto"];
if header :matches "subject" "*お知らせ" { fileinto "Notice"; }
