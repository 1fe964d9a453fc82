require ["body", "fileinto"];
if body :text :contains "<b>" { fileinto "Tag"; }
