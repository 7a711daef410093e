"""Views: a view spec (library scope, search text, filters, sort) turned into SQL that counts and
pages the catalogue (paging), the filter language (filters) and the temporary score tables that
searches and text concepts join (text_scores). It may import `base` and `semantic`.
"""
