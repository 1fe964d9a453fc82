require ["body", "fileinto"];
if body :content "text/html" :contains "<b>total</b>" { fileinto "Html"; }
