#define BOOST_TEST_MODULE sink_symlink
#include <boost/test/unit_test.hpp>
