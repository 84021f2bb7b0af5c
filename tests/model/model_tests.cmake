shoal_test(chat_encoding_test DATA SOURCES ${CMAKE_CURRENT_LIST_DIR}/chat_encoding_test.cc
  LIBS shoal::model nlohmann_json::nlohmann_json)
