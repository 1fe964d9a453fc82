require "fileinto";
if size :over 489 { fileinto "o1"; }
if size :over 490 { fileinto "o2"; }
if size :under 490 { fileinto "u1"; }
if size :under 491 { fileinto "u2"; }
