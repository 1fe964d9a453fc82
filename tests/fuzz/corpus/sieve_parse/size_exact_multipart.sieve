require "fileinto";
if size :over 458 { fileinto "o1"; }
if size :over 459 { fileinto "o2"; }
if size :under 459 { fileinto "u1"; }
if size :under 460 { fileinto "u2"; }
