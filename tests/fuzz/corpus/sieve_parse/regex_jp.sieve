require ["regex", "fileinto"];
if header :regex "subject" "(会議|請求書)" { fileinto "JpRe"; }
